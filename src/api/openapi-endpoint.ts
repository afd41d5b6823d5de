// Serves the OpenAPI documents built from the served resources, rebuilt only when the set of
// resources changes (a CRD applied or removed), with an ETag so clients can cache them.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { openapiV2, openapiV3ForGroupVersion, openapiV3Index } from '../crd/openapi.js';
import { errors } from '../machinery/errors.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { ResourceRegistry } from './registry.js';
import { sendError } from './respond.js';
import { acceptsOpenApiV2Protobuf, encodeOpenApiV2, OPENAPI_V2_PROTOBUF } from '../protobuf/openapi-v2.js';

interface Built {
  generation: number;
  body: string;
  etag: string;
  protobuf?: Buffer;
}

function gvPath(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `apis/${info.group}/${info.version}` : `api/${info.version}`;
}

export class OpenApiDocuments {
  private v2?: Built;
  private v3 = new Map<string, Built>();
  private v3IndexDoc?: Built;

  constructor(private readonly registry: ResourceRegistry) {}

  private build(make: () => unknown): Built {
    const body = JSON.stringify(make());
    return { generation: this.registry.generation, body, etag: createHash('sha512').update(body).digest('hex').slice(0, 32).toUpperCase() };
  }

  private fresh(built: Built | undefined): built is Built {
    return built !== undefined && built.generation === this.registry.generation;
  }

  private groupVersionDoc(path: string): Built | undefined {
    const cached = this.v3.get(path);
    if (this.fresh(cached)) return cached;
    const infos = this.registry.all().filter((i) => gvPath(i) === path);
    if (infos.length === 0) return undefined;
    const built = this.build(() => openapiV3ForGroupVersion(infos));
    this.v3.set(path, built);
    return built;
  }

  private send(req: Request, res: Response, built: Built): void {
    res.setHeader('ETag', `"${built.etag}"`);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache, private');
    if (req.headers['if-none-match'] === `"${built.etag}"`) {
      res.status(304).end();
      return;
    }
    res.status(200).send(built.body);
  }

  serveV2(req: Request, res: Response): void {
    if (!this.fresh(this.v2)) this.v2 = this.build(() => openapiV2(this.registry.all()));
    if (acceptsOpenApiV2Protobuf(req.headers.accept)) {
      const built = this.v2;
      built.protobuf ??= Buffer.from(encodeOpenApiV2(JSON.parse(built.body) as object));
      res.setHeader('ETag', `"${built.etag}"`);
      res.setHeader('Vary', 'Accept');
      res.setHeader('Content-Type', OPENAPI_V2_PROTOBUF);
      res.setHeader('Cache-Control', 'no-cache, private');
      if (req.headers['if-none-match'] === `"${built.etag}"`) {
        res.status(304).end();
        return;
      }
      res.status(200).send(built.protobuf);
      return;
    }
    this.send(req, res, this.v2);
  }

  serveV3Index(req: Request, res: Response): void {
    if (!this.fresh(this.v3IndexDoc)) {
      this.v3IndexDoc = this.build(() =>
        openapiV3Index(this.registry.all(), (path: string) => this.groupVersionDoc(path)?.etag ?? ''),
      );
    }
    this.send(req, res, this.v3IndexDoc);
  }

  serveV3(req: Request, res: Response, path: string): void {
    const built = this.groupVersionDoc(path);
    if (!built) {
      sendError(res, errors.notFound({ group: '', resource: 'openapi' }, path));
      return;
    }
    this.send(req, res, built);
  }
}
