// The agents' HTTP API (docs/agent-api.md). A 401 anywhere fires "escalator:unauthorized" so the page can show the login.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api/agent" + path, options);
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached.");
  }
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  if (response.status === 401 && path !== "/login") {
    window.dispatchEvent(new CustomEvent("escalator:unauthorized"));
  }
  if (!response.ok) throw new ApiError(response.status, detailText(data));
  return data;
}

function detailText(data) {
  if (!data || data.detail === undefined) return "";
  if (typeof data.detail === "string") return data.detail;
  // FastAPI's validation errors: a list of {loc, msg}.
  if (Array.isArray(data.detail)) return data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return JSON.stringify(data.detail);
}
