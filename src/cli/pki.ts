// The self-signed certificate authority standalone mode generates on first start, and the
// serving certificate it signs for localhost. Kept under $VIRTFLOW_HOME/pki so restarts keep
// the same CA and existing kubeconfigs stay valid.
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Pki {
  caCert: string;
  cert: string;
  key: string;
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

export async function generatePki(hosts: string[]): Promise<Pki> {
  const now = new Date(Date.now() - 60_000);
  const tenYears = new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const caKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=virtflow-ca',
    notBefore: now,
    notAfter: tenYears,
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const sans = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=virtflow-apiserver',
    issuer: ca.subject,
    notBefore: now,
    notAfter: tenYears,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(sans, false),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caCert: ca.toString('pem'),
    cert: cert.toString('pem'),
    key: pemKey(await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey)),
  };
}

/** Loads the PKI kept in dir, generating it on first use. */
export async function loadOrCreatePki(dir: string, hosts: string[] = ['localhost', '127.0.0.1', '::1']): Promise<Pki> {
  const files = { caCert: path.join(dir, 'ca.crt'), cert: path.join(dir, 'apiserver.crt'), key: path.join(dir, 'apiserver.key') };
  if (existsSync(files.caCert) && existsSync(files.cert) && existsSync(files.key)) {
    return {
      caCert: await readFile(files.caCert, 'utf8'),
      cert: await readFile(files.cert, 'utf8'),
      key: await readFile(files.key, 'utf8'),
    };
  }
  const pki = await generatePki(hosts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(files.caCert, pki.caCert);
  await writeFile(files.cert, pki.cert);
  await writeFile(files.key, pki.key, { mode: 0o600 });
  return pki;
}
