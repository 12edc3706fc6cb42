// The JSON API of this server, for one tenant, with the admin token.

export class ApiError extends Error {
  constructor(status, body) {
    const problem = typeof body === "object" && body ? body : {};
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

function query(params) {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** api.get/post/put/patch/del(path) with `path` relative to /v1/{tenant}; reject with ApiError. */
export function makeApi(tenant, token) {
  const base = `/v1/${encodeURIComponent(tenant)}`;
  async function call(method, path, body, headers = {}) {
    const init = { method, headers: { Accept: "application/json", Authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let res;
    try {
      res = await fetch(base + path, init);
    } catch {
      throw new ApiError(0, { detail: "The server cannot be reached. Is onhand still running?" });
    }
    if (res.status === 204) return null;
    const type = res.headers.get("content-type") || "";
    const answer = type.includes("json") ? await res.json() : await res.text();
    if (!res.ok) throw new ApiError(res.status, answer);
    return answer;
  }
  return {
    get: (path, params) => call("GET", path + query(params)),
    post: (path, body, headers) => call("POST", path, body ?? {}, headers),
    patch: (path, body) => call("PATCH", path, body ?? {}),
    put: (path, body) => call("PUT", path, body ?? {}),
    del: (path) => call("DELETE", path),
    /** Text answers (CSV). */
    text: (path, params) => call("GET", path + query(params), undefined, { Accept: "text/csv" }),
  };
}
