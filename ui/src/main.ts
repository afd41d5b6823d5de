// The operator portal's entry point.
import './styles.css';
import './components.js';
import './app.js';
