import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatasetDefinition } from '../../../src/source/dataset.js';
import { policeLog } from '../../../src/source/datasets/police-log.js';
import { FaultBook, type FaultKind, type FaultRule, type FiredFault } from './faults.js';
import { SoqlQueryError, selectedColumn } from './soql-evaluator.js';
import { parseSelect, SoqlSyntaxError } from './soql-parser.js';
import { RowStore, systemColumns, type ColumnDefinition } from './store.js';
import type { SodaRow } from './types.js';
import { buildViewDocument, type ViewDocument } from './views.js';

/**
 * A fake Socrata SODA 2.1 server: a real HTTP server that answers `/resource/<dataset>.json` with
 * Socrata's semantics and faults, and a control API (`/__fake/...`) so tests in other processes
 * can switch faults and change rows.
 */

export interface FakeSodaOptions {
  datasetId?: string;
  rows?: Iterable<SodaRow>;
  port?: number;
  host?: string;
  /** The field list X-SODA2-Fields reports; default: the dataset's columns. */
  fields?: string[];
  /** Column names and types; default: the Police Log definition's. */
  columns?: readonly ColumnDefinition[];
  /** Field `upsertRows` matches on; default `id`. */
  naturalKey?: string;
  /** The `/api/views/<id>.json` document; default: one built from the columns. */
  view?: ViewDocument;
  /** More datasets served on the same base URL, as one Socrata domain serves many. */
  datasets?: readonly FakeDatasetOptions[];
}

/** One more dataset of the server. */
export interface FakeDatasetOptions {
  datasetId: string;
  rows?: Iterable<SodaRow>;
  columns: readonly ColumnDefinition[];
  naturalKey: string;
  fields?: string[];
  view?: ViewDocument;
  title?: string;
}

/** A dataset definition's own columns as the fake serves them (system fields come with every row). */
export function columnsOf(definition: DatasetDefinition): ColumnDefinition[] {
  return definition.fields
    .filter((field) => !field.name.startsWith(':'))
    .map((field) => ({
      name: field.name,
      type: field.type === 'calendar_date' ? 'floating_timestamp' : field.type,
    }));
}

/** The fake's options for a dataset of ours, from its definition. */
export function fakeDatasetOf(
  definition: DatasetDefinition,
  rows: Iterable<SodaRow>,
): FakeDatasetOptions {
  return {
    datasetId: definition.id,
    rows,
    columns: columnsOf(definition),
    naturalKey: definition.naturalKey,
    title: definition.title,
  };
}

/** The controls of one dataset of the server. */
export interface FakeDatasetControl {
  upsertRows: (rows: SodaRow[]) => { inserted: number; updated: number };
  removeRows: (ids: string[]) => number;
  setFields: (fields: string[] | undefined) => void;
  listRows: () => readonly SodaRow[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The raw query string, to check that no secret travels in the URL. */
  query: string;
  /** The `$` parameters, decoded. */
  params: Record<string, string>;
  /** Whether an X-App-Token header came, and its value. */
  appTokenHeader: boolean;
  appToken?: string;
  /** Whether a `$$app_token` parameter came in the URL (it never should). */
  appTokenInUrl: boolean;
  /** The status answered; 0 when the connection was dropped instead. */
  status: number;
  fault?: FaultKind;
  /** Rows in the body, for a 200. */
  rows?: number;
}

export interface FakeSoda {
  /** Base URL to give the client (SOCRATA_BASE_URL). */
  url: string;
  datasetId: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  /** Replaces the first row with the same natural key, adds the others; `:updated_at` moves. */
  upsertRows(rows: SodaRow[]): void;
  removeRows(ids: string[]): void;
  /** A changed field list in X-SODA2-Fields (drift); undefined goes back to the dataset's own. */
  setFields(fields: string[] | undefined): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Every row served, system fields included, in storage order. */
  listRows(): readonly SodaRow[];
  /** The controls of any dataset served (the first one's are the methods above). */
  dataset(id: string): FakeDatasetControl;
}

const defaultLimit = 1000;
const defaultDelayMs = 1500;
const maxRecordedRequests = 10_000;
const knownParameters = new Set([
  '$select',
  '$where',
  '$order',
  '$limit',
  '$offset',
  '$q',
  '$$app_token',
]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** Several buffers are sent one after the other (a page sliced from a cached layout). */
  body: string | Buffer | Buffer[];
  rows?: number;
}

function errorBody(
  shape: 'code' | 'errorCode',
  code: string,
  message: string,
  data: Record<string, unknown> = {},
): string {
  return JSON.stringify(
    shape === 'code' ? { code, error: true, message, data } : { errorCode: code, message, data },
  );
}

function jsonAnswer(
  status: number,
  body: Answer['body'],
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json;charset=utf-8', ...headers },
    body,
  };
}

const statusFaults: Record<
  string,
  { status: number; code: string; message: string; shape: 'code' | 'errorCode' }
> = {
  '400': {
    status: 400,
    code: 'query.compiler.malformed',
    message: 'Error, could not parse SoQL query',
    shape: 'code',
  },
  '401': {
    status: 401,
    code: 'authentication_required',
    message: 'You must be logged in to access this resource',
    shape: 'code',
  },
  '403': {
    status: 403,
    code: 'invalid_app_token',
    message: 'Invalid app_token specified',
    shape: 'code',
  },
  '404': { status: 404, code: 'not_found', message: 'Not found', shape: 'code' },
  '429': { status: 429, code: 'too_many_requests', message: 'Too many requests', shape: 'code' },
  '429-retry-after': {
    status: 429,
    code: 'too_many_requests',
    message: 'Too many requests',
    shape: 'code',
  },
  '500': { status: 500, code: 'internal', message: 'Internal error', shape: 'errorCode' },
  '503': {
    status: 503,
    code: 'service_unavailable',
    message: 'Service temporarily unavailable',
    shape: 'code',
  },
  '202': {
    status: 202,
    code: 'processing',
    message: 'Your request is still being processed; try again',
    shape: 'code',
  },
};

const maintenancePage =
  '<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head>' +
  '<body><h1>We will be back soon</h1><p>The data portal is undergoing maintenance.</p></body></html>\n';

interface ServedDataset {
  store: RowStore;
  advertised: string[] | undefined;
  view: () => ViewDocument;
}

export async function startFakeSoda(options: FakeSodaOptions = {}): Promise<FakeSoda> {
  const datasetId = options.datasetId ?? policeLog.id;
  const served = new Map<string, ServedDataset>();
  const serve = (dataset: FakeDatasetOptions) => {
    const store = new RowStore(dataset.rows ?? [], dataset.columns, dataset.naturalKey);
    served.set(dataset.datasetId, {
      store,
      advertised: dataset.fields,
      view: () =>
        dataset.view ??
        buildViewDocument(dataset.datasetId, dataset.title ?? dataset.datasetId, dataset.columns),
    });
  };
  serve({
    datasetId,
    columns: options.columns ?? columnsOf(policeLog),
    naturalKey: options.naturalKey ?? policeLog.naturalKey,
    title: options.datasetId === undefined ? policeLog.title : datasetId,
    ...(options.rows !== undefined && { rows: options.rows }),
    ...(options.fields !== undefined && { fields: options.fields }),
    ...(options.view !== undefined && { view: options.view }),
  });
  for (const dataset of options.datasets ?? []) serve(dataset);
  const faults = new FaultBook();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let requestNumber = 0;

  function fieldHeaders(
    { store, advertised }: ServedDataset,
    system: boolean,
    picked?: readonly string[],
  ): Record<string, string> {
    const user = picked ?? advertised ?? store.listColumns();
    const names = [...(system && !picked ? systemColumns : []), ...user];
    const types = names.map((name) =>
      name.startsWith(':') ? 'meta_data' : (store.schema.get(name) ?? 'text'),
    );
    return { 'x-soda2-fields': JSON.stringify(names), 'x-soda2-types': JSON.stringify(types) };
  }

  function answerQuery(dataset: ServedDataset, params: URLSearchParams): Answer {
    const { store } = dataset;
    for (const name of params.keys()) {
      if (name.startsWith('$') && !knownParameters.has(name)) {
        return jsonAnswer(
          400,
          errorBody('code', 'query.compiler.malformed', `Unrecognized arguments [${name}]`),
        );
      }
    }
    const limitText = params.get('$limit') ?? String(defaultLimit);
    const offsetText = params.get('$offset') ?? '0';
    if (!/^\d+$/.test(limitText) || !/^\d+$/.test(offsetText)) {
      return jsonAnswer(
        400,
        errorBody(
          'code',
          'query.compiler.malformed',
          `Invalid $limit or $offset: ${limitText}, ${offsetText}`,
        ),
      );
    }
    const where = params.get('$where') ?? undefined;
    const order = params.get('$order') ?? undefined;
    const q = params.get('$q') ?? undefined;
    const equals = [...params.entries()].filter(
      ([name]) => !name.startsWith('$') && store.schema.has(name),
    );
    const terms = parseSelect(params.get('$select') ?? '*');
    const selection = store.select({ where, order, q, equals });
    const positions = selection.slots;
    if (
      terms.length === 1 &&
      terms[0]?.type === 'expr' &&
      terms[0].expr.type === 'call' &&
      terms[0].expr.name === 'count'
    ) {
      const name = terms[0].alias ?? 'count';
      return jsonAnswer(
        200,
        `[{${JSON.stringify(name)}:${JSON.stringify(String(positions.length))}}]\n`,
        {
          'x-soda2-fields': JSON.stringify([name]),
          'x-soda2-types': '["number"]',
        },
      );
    }
    const system = terms.some((term) => term.type === 'system');
    const all = terms.some((term) => term.type === 'all');
    const picked = all
      ? undefined
      : terms.flatMap((term) =>
          term.type === 'expr' ? [selectedColumn(term.expr, store.schema)] : [],
        );
    const view = picked
      ? { system: false, columns: [...(system ? systemColumns : []), ...picked] }
      : { system };
    const [offset, limit] = [Number(offsetText), Number(limitText)];
    const headers = fieldHeaders(dataset, system, picked && view.columns);
    // The pipeline's shape (`:*, *` in a stable order) is served from a contiguous layout.
    if (order !== undefined && system && !picked) {
      const page = store.renderLaidOut(selection, offset, limit);
      return { ...jsonAnswer(200, page.parts, headers), rows: page.rows };
    }
    const ordered = order === undefined ? store.scramble(positions, requestNumber) : positions;
    const page = store.render(ordered, offset, limit, view);
    return { ...jsonAnswer(200, page.body, headers), rows: page.rows };
  }

  function answerFault(fired: FiredFault): Answer | undefined {
    const known = statusFaults[fired.kind];
    if (!known) return undefined;
    const shape = fired.rule.shape ?? known.shape;
    const headers: Record<string, string> = {};
    if (fired.kind === '429-retry-after') headers['retry-after'] = fired.rule.retryAfter ?? '1';
    return jsonAnswer(
      known.status,
      errorBody(shape, fired.rule.code ?? known.code, fired.rule.message ?? known.message),
      headers,
    );
  }

  function later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  }

  function send(
    res: ServerResponse,
    answer: Answer,
    record: RecordedRequest,
    fault?: FiredFault,
  ): void {
    const parts =
      typeof answer.body === 'string'
        ? [Buffer.from(answer.body)]
        : Array.isArray(answer.body)
          ? answer.body
          : [answer.body];
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const headers = { ...answer.headers, 'content-length': String(length) };
    record.status = answer.status;
    if (answer.rows !== undefined) record.rows = answer.rows;
    if (!fault || fault.kind === 'slow') {
      const respond = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, headers);
        for (const part of parts) res.write(part);
        res.end();
      };
      if (fault) later(fault.rule.delayMs ?? defaultDelayMs, respond);
      else respond();
      return;
    }
    // The faults that cut a body need it in one piece; they are rare, so the copy does not matter.
    const buffer = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const half = buffer.subarray(0, Math.floor(buffer.length / 2));
    switch (fault.kind) {
      case 'stall':
        res.writeHead(answer.status, headers).write(half);
        later(fault.rule.delayMs ?? defaultDelayMs, () => {
          if (!res.destroyed) res.end(buffer.subarray(half.length));
        });
        return;
      case 'truncated':
        res
          .writeHead(answer.status, { ...headers, 'content-length': String(half.length) })
          .end(half);
        return;
      case 'drop-mid-body':
        record.status = 0;
        res.writeHead(answer.status, headers).write(half, () => res.destroy());
        return;
      default:
        res.writeHead(answer.status, headers).end(buffer);
    }
  }

  function handleResource(req: IncomingMessage, res: ServerResponse, url: URL): void {
    requestNumber += 1;
    const params: Record<string, string> = {};
    for (const [name, value] of url.searchParams) if (name.startsWith('$')) params[name] = value;
    const token = req.headers['x-app-token'];
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      params,
      appTokenHeader: typeof token === 'string',
      ...(typeof token === 'string' && { appToken: token }),
      appTokenInUrl: url.searchParams.has('$$app_token'),
      status: 0,
    };
    requests.push(record);
    if (requests.length > maxRecordedRequests)
      requests.splice(0, requests.length - maxRecordedRequests);

    const fired = faults.pick({
      where: params.$where,
      select: params.$select,
      offset: Number(params.$offset ?? 0),
    });
    if (fired) record.fault = fired.kind;
    if (fired?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    const faultAnswer = fired && answerFault(fired);
    if (faultAnswer) return send(res, faultAnswer, record);
    if (fired?.kind === 'empty') return send(res, jsonAnswer(200, '[]\n'), record);
    if (fired?.kind === 'html') {
      return send(
        res,
        {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: maintenancePage,
        },
        record,
      );
    }

    const viewMatch = /^\/api\/views\/([^/.]+)(?:\.json)?$/.exec(url.pathname);
    const viewed = viewMatch && served.get(viewMatch[1]!);
    if (viewed) return send(res, jsonAnswer(200, `${JSON.stringify(viewed.view())}\n`), record);
    const match = /^\/resource\/([^/]+)\.json$/.exec(url.pathname);
    const dataset = match ? served.get(match[1]!) : undefined;
    if (!match || !dataset) {
      return send(
        res,
        jsonAnswer(
          404,
          errorBody('code', 'not_found', `Cannot find view ${match?.[1] ?? url.pathname}`),
        ),
        record,
      );
    }
    let answer: Answer;
    try {
      answer = answerQuery(dataset, url.searchParams);
    } catch (error) {
      if (error instanceof SoqlSyntaxError) {
        answer = jsonAnswer(
          400,
          errorBody(
            'code',
            'query.compiler.malformed',
            `Error, could not parse SoQL query: ${error.message}`,
            {
              position: error.position,
            },
          ),
        );
      } else if (error instanceof SoqlQueryError) {
        answer = jsonAnswer(400, errorBody('errorCode', error.sourceCode, error.message));
      } else throw error;
    }
    send(res, answer, record, fired);
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text.trim() === '' ? undefined : JSON.parse(text);
  }

  function datasetControl(id: string): FakeDatasetControl {
    const dataset = served.get(id);
    if (!dataset) throw new Error(`the fake SODA server serves no dataset ${id}`);
    return {
      upsertRows: (rows) => dataset.store.upsert(rows),
      removeRows: (ids) => dataset.store.remove(ids),
      setFields: (fields) => {
        dataset.advertised = fields;
      },
      listRows: () => dataset.store.listRows(),
    };
  }
  const main = datasetControl(datasetId);

  const control = {
    upsertRows: main.upsertRows,
    removeRows: main.removeRows,
    setFields: main.setFields,
    addFault(rule: FaultRule) {
      faults.add(rule);
    },
    clearFaults() {
      faults.clear();
    },
  };

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const reply = (status: number, value: unknown): void => {
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(value)}\n`);
    };
    const route = `${req.method} ${url.pathname}`;
    try {
      const body = await readJson(req);
      const target = datasetControl(url.searchParams.get('dataset') ?? datasetId);
      switch (route) {
        case 'GET /__fake/requests':
          return reply(200, requests);
        case 'DELETE /__fake/requests':
          requests.length = 0;
          return reply(200, { cleared: true });
        case 'POST /__fake/faults': {
          const rules = (Array.isArray(body) ? body : [body]) as FaultRule[];
          rules.forEach((rule) => control.addFault(rule));
          return reply(200, { added: rules.length });
        }
        case 'DELETE /__fake/faults':
          control.clearFaults();
          return reply(200, { cleared: true });
        case 'POST /__fake/rows':
          if (!Array.isArray(body)) return reply(400, { error: 'expected a JSON array of rows' });
          return reply(200, target.upsertRows(body as SodaRow[]));
        case 'DELETE /__fake/rows': {
          const ids = (body as { ids?: unknown } | undefined)?.ids;
          if (!Array.isArray(ids)) return reply(400, { error: 'expected {"ids": [...]}' });
          return reply(200, { removed: target.removeRows(ids.map(String)) });
        }
        case 'POST /__fake/fields': {
          const fields = (body as { fields?: unknown } | undefined)?.fields;
          if (
            fields !== null &&
            !(Array.isArray(fields) && fields.every((field) => typeof field === 'string'))
          ) {
            return reply(400, { error: 'expected {"fields": ["name", ...]} or {"fields": null}' });
          }
          target.setFields(fields ?? undefined);
          const dataset = served.get(url.searchParams.get('dataset') ?? datasetId)!;
          return reply(200, { fields: dataset.advertised ?? dataset.store.listColumns() });
        }
        default:
          return reply(404, { error: `no control route ${route}` });
      }
    } catch (error) {
      return reply(400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname.startsWith('/__fake/')) {
      void handleControl(req, res, url);
      return;
    }
    handleResource(req, res, url);
  });
  // Keep-alive longer than the client's idle time, so pages reuse one connection.
  server.keepAliveTimeout = 10_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    datasetId,
    requests,
    listRows: main.listRows,
    dataset: datasetControl,
    ...control,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
