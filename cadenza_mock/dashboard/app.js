// The cadenza-mock dashboard: plain JS over the admin API, no build step.
//
// Every string shown comes from the mock, and journal entries carry whatever a client sent
// (paths, headers, bodies): the page builds its DOM with createElement and textContent
// only, never by parsing markup, and the server's Content-Security-Policy allows no inline
// script.
"use strict";

const TOKEN_KEY = "cadenza-mock.admin-token";
const NAMESPACE_KEY = "cadenza-mock.namespace"; // the namespace shown ("": the server's own)
const JOURNAL_LIMIT = 1000; // entries kept in the page (the server's default journal size)
const RECONNECT_MS = 1000;

const $ = (id) => document.getElementById(id);

class AuthNeeded extends Error {}

// ------------------------------------------------------------------ the admin API

function currentNamespace() {
  return sessionStorage.getItem(NAMESPACE_KEY) || "";
}

// Every admin call of the page goes through here: the one place its headers are set.
// `namespaced: false` asks the server as a whole (the list of namespaces).
async function adminFetch(path, init = {}) {
  const { namespaced = true, ...options } = init;
  const headers = new Headers(options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("X-Admin-Token", token);
  if (namespaced && currentNamespace()) headers.set("X-Cadenza-Mock-Namespace", currentNamespace());
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (response.status === 401) {
    const hadToken = token !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(hadToken ? "That token was refused." : "");
    throw new AuthNeeded("admin token needed");
  }
  return response;
}

// An admin call's `data`; an error envelope throws with the server's own message.
async function adminJson(path, init = {}) {
  const response = await adminFetch(path, init);
  let body;
  try {
    body = await response.json();
  } catch (err) {
    throw new Error(`${path}: HTTP ${response.status}, not JSON`);
  }
  if (!body.success) throw new Error(body.error || `HTTP ${response.status}`);
  return body.data;
}

// ------------------------------------------------------------------ DOM helpers

// An element with text (never parsed as HTML) and children.
function el(tag, text, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const child of children) node.append(child);
  return node;
}

function withClass(node, name) {
  node.className = name;
  return node;
}

// UTC to the second, short enough for a table cell (the journal's JSON has the ms).
function time(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function say(text, isError = false) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
  message.hidden = !text;
}

function failed(err) {
  if (!(err instanceof AuthNeeded)) say(err.message, true);
}

function table(headings, rows) {
  const head = el("tr");
  for (const heading of headings) head.append(el("th", heading));
  const body = el("tbody");
  for (const cells of rows) {
    const row = el("tr");
    for (const cell of cells) row.append(cell instanceof Node ? cell : el("td", cell));
    body.append(row);
  }
  return el("table", null, el("thead", null, head), body);
}

// ------------------------------------------------------------------ the admin token

function showLogin(why) {
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why;
  $("login-error").hidden = !why;
  $("admin-token").focus();
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("admin-token").value);
  $("admin-token").value = "";
  $("login").hidden = true;
  start();
});

// ------------------------------------------------------------------ state panels

const view = { scenario: null, users: [] };

let refreshing = null;
let refreshAgain = false;

// One refresh at a time, so an older answer never paints over a newer one; asked again
// meanwhile, it runs once more when done (what changed in between is then shown).
function refreshState() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await loadState();
      } while (refreshAgain);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// The namespace picker: the server's own and every namespace it holds. One that is gone
// (deleted, expired) goes back to the server's own.
async function loadNamespaces() {
  const spaces = await adminJson("/__admin/namespaces", { namespaced: false });
  const picker = $("namespace");
  const names = spaces.map((space) => space.name);
  if (currentNamespace() && !names.includes(currentNamespace())) {
    say(`namespace ${currentNamespace()} is gone; showing the server's own`, true);
    sessionStorage.removeItem(NAMESPACE_KEY);
    restartStream();
  }
  const options = [el("option", "default (the server's own)")];
  options[0].value = "";
  for (const name of names) {
    const option = el("option", name);
    option.value = name;
    options.push(option);
  }
  picker.replaceChildren(...options);
  picker.value = currentNamespace();
}

$("namespace").addEventListener("change", () => {
  const name = $("namespace").value;
  if (name) sessionStorage.setItem(NAMESPACE_KEY, name);
  else sessionStorage.removeItem(NAMESPACE_KEY);
  journal = [];
  renderJournal();
  restartStream();
  refreshState().catch(failed);
});

async function loadState() {
  await loadNamespaces();
  const [scenario, clock, credentials, accounts, faults, market, behaviors] =
    await Promise.all([
      adminJson("/__admin/scenario"),
      adminJson("/__admin/clock"),
      adminJson("/__admin/credentials"),
      adminJson("/__admin/trading-accounts"),
      adminJson("/__admin/faults"),
      adminJson("/__admin/market"),
      adminJson("/__admin/venue-behavior"),
    ]);
  // Each connected account's portfolio (seeded when first read, as a client's read would)
  // and its newest open and closed orders (a few: a loaded server holds many thousands);
  // one gone meanwhile (a reset, a load) is its error, shown until the next refresh.
  const connected = accounts.filter((a) => a.status !== "DISCONNECTED");
  const orErr = (promise) => promise.catch((err) => {
    if (err instanceof AuthNeeded) throw err;
    return err;
  });
  const [portfolios, orders] = await Promise.all([
    Promise.all(connected.map((a) =>
      orErr(adminJson(`/__admin/portfolios/${encodeURIComponent(a.tradingAccountId)}`)))),
    Promise.all(connected.map((a) => {
      const of = `/__admin/orders?tradingAccountId=${encodeURIComponent(a.tradingAccountId)}`;
      return Promise.all([
        orErr(adminJson(`${of}&open=true&latest=${SHOWN.open}`)),
        orErr(adminJson(`${of}&open=false&latest=${SHOWN.closed}`)),
      ]);
    })),
  ]);
  view.scenario = scenario;
  view.users = scenario.users;
  $("dashboard").hidden = false;
  renderScenario(scenario, clock);
  renderUsers(scenario.users, credentials, accounts);
  renderFaults(faults);
  renderMarket(market);
  renderTrading(connected, portfolios, orders, behaviors);
  renderUserFilter(scenario.users);
}

let pending = null;
// Many journal events in a burst: one refresh after them.
function refreshSoon() {
  if (pending !== null) return;
  pending = setTimeout(() => {
    pending = null;
    refreshState().catch(failed);
  }, 100);
}

function renderScenario(scenario, clock) {
  $("scenario-name").textContent = scenario.name;
  $("scenario-description").textContent = scenario.description;
  $("scenario-profile").textContent = scenario.profile;
  $("scenario-seed").textContent = scenario.seed;
  $("clock").textContent = `${clock.nowDateTime}${clock.frozen ? " (frozen)" : ""}` +
    (clock.offsetMs ? `, advanced ${clock.offsetMs / 1000} s` : "");
  $("reload").disabled = !scenario.source;
}

// A namespace's base URL takes the scenario's tokens as they are.
function curlLine(token) {
  const base = currentNamespace() ? `${location.origin}/__ns/${currentNamespace()}` : location.origin;
  return `curl -H 'Authorization: Bearer ${token}' ${base}/api/v3/credential/list`;
}

function copyButton(text) {
  const button = el("button", "copy");
  button.type = "button";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "copied";
    } catch (err) {
      button.textContent = "select and copy";
    }
  });
  return button;
}

function renderUsers(users, credentials, accounts) {
  const list = $("user-list");
  list.replaceChildren();
  for (const user of users) {
    const card = withClass(el("article"), "user");
    card.dataset.user = user.id;
    card.append(el("h3", user.email || user.id), withClass(el("p", user.id), "muted"));
    const tokens = el("ul");
    for (const token of user.tokens) {
      const line = curlLine(token);
      tokens.append(el("li", null, el("code", token), " ", withClass(el("code", line), "curl"), " ",
        copyButton(line)));
    }
    for (const token of user.expiredTokens) {
      tokens.append(el("li", null, el("code", token), withClass(el("span", " expired"), "muted")));
    }
    card.append(tokens);
    const own = credentials.filter((c) => c.userId === user.id);
    card.append(el("h4", `Credentials (${own.length})`), withClass(table(
      ["id", "venue", "name", "status", "apiKey", "createdAt", "updatedAt", "revokedAt"],
      own.map((c) => [c.credentialId, c.venue, c.name, c.status, c.apiKey, time(c.createdAt),
        time(c.updatedAt), time(c.revokedAt)]),
    ), "credentials"));
    const reached = accounts.filter((a) => a.userId === user.id);
    card.append(el("h4", `Trading accounts (${reached.length})`), withClass(table(
      ["id", "venue", "nickname", "type", "status", "createdAt", "updatedAt", "disconnectedAt"],
      reached.map((a) => [a.tradingAccountId, a.venue, a.nickname, a.accountType, a.status,
        time(a.createdAt), time(a.updatedAt), time(a.disconnectedAt)]),
    ), "accounts"));
    list.append(card);
  }
}

function renderFaults(faults) {
  const rows = $("fault-rows");
  rows.replaceChildren();
  for (const fault of faults) {
    const remove = el("button", "disarm");
    remove.type = "button";
    remove.disabled = !fault.armed;
    remove.addEventListener("click", () => act(() =>
      adminJson(`/__admin/faults/${encodeURIComponent(fault.id)}`, { method: "DELETE" })));
    const row = el("tr", null, el("td", fault.id), el("td", fault.origin),
      el("td", fault.armed ? "yes" : "no"), el("td", fault.remaining ?? "always"),
      el("td", fault.fired), el("td", null, el("code", JSON.stringify(fault.fault))),
      el("td", null, remove));
    row.dataset.fault = fault.id;
    rows.append(row);
  }
  if (!faults.length) rows.append(el("tr", null, withClass(el("td", "no faults"), "muted")));
}

// The namespace's market, read-only: each instrument's status and ticker now (refreshed
// with the rest of the page: a request, a clock move, a reset).
function renderMarket(market) {
  const venues = Object.entries(market.venues || {}).map(([venue, data]) => `${venue}: ${data}`);
  $("market-venues").textContent = `market data: ${venues.join(", ")}`;
  const rows = $("market-rows");
  rows.replaceChildren();
  for (const i of market.instruments) {
    const control = [i.halted ? "halted" : "", i.bookSet ? "book set" : ""].filter(Boolean);
    const row = el("tr", null, el("td", i.instrumentId), el("td", i.status), el("td", i.lastPrice),
      el("td", i.bidPrice), el("td", i.askPrice), el("td", i.pricesSet),
      el("td", control.join(", ")));
    row.dataset.instrument = i.instrumentId;
    rows.append(row);
  }
  if (!market.instruments.length) rows.append(el("tr", null, withClass(el("td", "no instruments"), "muted")));
}

// Orders shown per account: the newest open ones, then the newest closed (final) ones,
// each newest first; the server picks them (GET /__admin/orders?open=&latest=).
const SHOWN = { open: 20, closed: 5 };

// A LIMIT order's limit; a MARKET order's average fill price, once it has one.
function orderPrice(order) {
  if (order.limitPrice !== undefined) return order.limitPrice;
  return Number(order.executedQuantity) ? `avg ${order.executedPrice}` : "market";
}

// Trading, read-only like the market: each connected account's venue behaviour, balances,
// open positions and orders (refreshed with the rest of the page).
function renderTrading(accounts, portfolios, orders, behaviors) {
  const ofAccount = (rows, id) => rows.filter((r) => r.tradingAccountId.toLowerCase() === id);
  $("trading-accounts").replaceChildren(...accounts.map((account, n) => {
    const id = account.tradingAccountId.toLowerCase();
    return accountCard(account, portfolios[n], orders[n], ofAccount(behaviors, id)[0]);
  }));
  if (!accounts.length) {
    $("trading-accounts").append(withClass(el("p", "no connected trading accounts"), "muted"));
  }
}

// One account: `orders` its newest [open, closed] ones (each oldest first, or the error
// reading them); `behavior` its entry, if it has one.
function accountCard(account, portfolio, orders, behavior) {
  const card = withClass(el("article"), "account");
  card.dataset.account = account.tradingAccountId;
  const keys = Object.entries(behavior ? behavior.venueBehavior : {});
  const venue = keys.length
    ? `venue behaviour: ${keys.map(([k, v]) => `${k} ${v}`).join(", ")} (${behavior.source})`
    : "venue behaviour: normal";
  const about = `${account.tradingAccountId}, ${userLabel(account.userId)}, ${account.status}`;
  card.append(el("h3", `${account.nickname || account.tradingAccountId} (${account.venue})`),
    withClass(el("p", about), "muted"), withClass(el("p", venue), "behavior"));
  if (portfolio instanceof Error) {
    card.append(withClass(el("p", `portfolio: ${portfolio.message}`), "error"));
  } else {
    card.append(...portfolioParts(portfolio));
  }
  const failed = orders.find((o) => o instanceof Error);
  if (failed) {
    card.append(withClass(el("p", `orders: ${failed.message}`), "error"));
    return card;
  }
  const [live, closed] = orders.map((o) => o.slice().reverse());
  const shown = live.concat(closed);
  // As many as asked for: there may be more (the server was asked for the newest only).
  const count = (n, most) => (n === most ? `the newest ${n}` : `${n}`);
  card.append(el("h4", `Orders (${count(live.length, SHOWN.open)} open, `
      + `${count(closed.length, SHOWN.closed)} closed)`),
    withClass(table(
      ["createdAt", "instrument", "status", "side", "type", "quantity", "executed", "price"],
      shown.map((o) => [time(o.createdAt), o.instrumentId, o.status, o.orderSide, o.orderType,
        o.quantity, o.executedQuantity, orderPrice(o)]),
    ), "orders"));
  return card;
}

// Its balances (every asset it holds) and its open positions.
function portfolioParts({ balances, positions, summary }) {
  const held = balances.filter((b) => Number(b.total) !== 0);
  const open = positions.filter((p) => p.status === "OPEN");
  return [
    el("h4", `Balances (equity ${summary.equity} ${summary.currency})`),
    withClass(table(["asset", "free", "locked", "total"],
      held.map((b) => [b.securitySymbol, b.free, b.locked, b.total])), "balances"),
    el("h4", `Open positions (${open.length})`),
    withClass(table(
      ["instrument", "side", "quantity", "entry", "price", "unrealized PnL", "realized PnL"],
      open.map((p) => [p.instrumentId, p.positionSide, p.quantity, p.entryPrice, p.currentPrice,
        p.unrealizedPnl, p.realizedPnl]),
    ), "positions"),
  ];
}

function renderUserFilter(users) {
  const select = $("filter-user");
  const chosen = select.value;
  select.replaceChildren(el("option", "anyone"));
  select.firstChild.value = "";
  for (const user of users) {
    const option = el("option", user.email || user.id);
    option.value = user.id;
    select.append(option);
  }
  select.value = users.some((u) => u.id === chosen) ? chosen : "";
}

// ------------------------------------------------------------------ buttons and forms

// Run an admin action, then show the state it left.
async function act(action, errorTarget = null) {
  if (errorTarget) errorTarget.hidden = true;
  try {
    await action();
    say("");
  } catch (err) {
    if (err instanceof AuthNeeded) return;
    if (errorTarget) {
      errorTarget.textContent = err.message;
      errorTarget.hidden = false;
    } else {
      say(err.message, true);
    }
  }
  await refreshState().catch(failed);
}

$("reset").addEventListener("click", () =>
  act(() => adminJson("/__admin/reset", { method: "POST" })));
$("reload").addEventListener("click", () =>
  act(() => adminJson("/__admin/scenario/reload", { method: "POST" })));
$("advance-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const seconds = Number($("advance").value);
  act(() => adminJson("/__admin/clock", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ advance: seconds }),
  }));
});

const PRESETS = {
  error: "match: {method: GET, path: /api/v3/credential/list}\nrespond: {status: 500}\ntimes: 1\n",
  delay: "match: {path: /api/v3/*}\ndelay: 2\ntimes: 1\n",
  drop: "match: {path: /api/v3/credential/list}\ndrop: true\ntimes: 1\n",
  rate: "match: {path: /api/v3/*}\nrate_limit: {requests: 2, window: 60}\n",
};
for (const button of document.querySelectorAll("[data-preset]")) {
  button.addEventListener("click", () => { $("fault-text").value = PRESETS[button.dataset.preset]; });
}
$("fault-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(() => adminJson("/__admin/faults", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: $("fault-text").value,
  }), $("fault-error"));
});
$("clear-faults").addEventListener("click", () =>
  act(() => adminJson("/__admin/faults", { method: "DELETE" })));
$("clear-journal").addEventListener("click", () =>
  act(() => adminJson("/__admin/requests", { method: "DELETE" })));

// ------------------------------------------------------------------ the journal

let journal = []; // oldest first, as the server numbers them

function statusMatches(status, wanted) {
  if (!wanted) return true;
  return wanted.split(",").map((w) => w.trim().toLowerCase()).filter(Boolean).some((w) =>
    /^\dxx$/.test(w) ? String(status)[0] === w[0] : String(status) === w);
}

function shown(entry) {
  const path = $("filter-path").value.trim();
  const user = $("filter-user").value;
  return (!path || entry.path.includes(path)) &&
    statusMatches(entry.status, $("filter-status").value) &&
    (!user || entry.userId === user);
}

function userLabel(userId) {
  if (!userId) return "";
  const user = view.users.find((u) => u.id === userId);
  return user ? (user.email || user.id) : userId;
}

function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries(query || {})) {
    for (const value of values) params.append(name, value);
  }
  const text = params.toString();
  return text ? `?${decodeURIComponent(text.replace(/\+/g, " "))}` : "";
}

function entryNode(entry) {
  const item = withClass(el("li"), "entry");
  item.dataset.seq = entry.seq;
  const statusClass = entry.status === 0 ? "s0" : `s${String(entry.status)[0]}xx`;
  const summary = el("summary", null,
    withClass(el("span", `#${entry.seq}`), "seq"),
    withClass(el("span", entry.method), "method"),
    withClass(el("span", entry.path + queryString(entry.query)), "path"),
    withClass(el("span", entry.status === 0 ? "no answer" : entry.status), `status ${statusClass}`),
    withClass(el("span", userLabel(entry.userId)), "who"),
    withClass(el("span", time(entry.time)), "muted"));
  if (entry.fault) summary.append(withClass(el("span", entry.fault), "fault"));
  const request = {
    method: entry.method, path: entry.path, query: entry.query, headers: entry.headers,
    body: entry.body,
  };
  const response = {
    status: entry.status, durationMs: entry.durationMs, userId: entry.userId,
    fault: entry.fault, hints: entry.hints, body: entry.response,
  };
  const details = el("details", null, summary,
    el("h4", "request"), withClass(el("pre", JSON.stringify(request, null, 2)), "request"),
    el("h4", "response"), withClass(el("pre", JSON.stringify(response, null, 2)), "response"));
  item.append(details);
  return item;
}

function renderJournal() {
  const list = $("journal-list");
  const visible = journal.filter(shown).reverse();
  list.replaceChildren(...visible.map(entryNode));
  $("journal-count").textContent =
    `${visible.length} of ${journal.length} request${journal.length === 1 ? "" : "s"}`;
}

function addEntry(entry) {
  journal.push(entry);
  if (journal.length > JOURNAL_LIMIT) journal.shift();
  const list = $("journal-list");
  if (shown(entry)) list.prepend(entryNode(entry));
  while (list.children.length > JOURNAL_LIMIT) list.lastChild.remove();
  $("journal-count").textContent =
    `${list.children.length} of ${journal.length} request${journal.length === 1 ? "" : "s"}`;
}

for (const id of ["filter-path", "filter-status", "filter-user"]) {
  $(id).addEventListener("input", renderJournal);
}

// ------------------------------------------------------------------ the live stream

function setLive(on) {
  const live = $("live");
  live.textContent = on ? "live" : "reconnecting";
  live.classList.toggle("off", !on);
}

let streamAbort = null;

// Another namespace picked: the stream of the one shown before ends, follow() opens one
// for the new one at once.
function restartStream() {
  if (streamAbort) streamAbort.abort();
}

// Server-sent events read with fetch (EventSource cannot send X-Admin-Token).
async function stream() {
  streamAbort = new AbortController();
  const response = await adminFetch("/__admin/requests/stream", {
    headers: { Accept: "text/event-stream" },
    signal: streamAbort.signal,
  });
  if (response.status === 404 && currentNamespace()) await loadNamespaces(); // gone?
  if (!response.ok || !response.body) throw new Error(`journal stream: HTTP ${response.status}`);
  journal = []; // the stream starts with every kept entry
  renderJournal();
  setLive(true);
  // What changed before this stream began (a load while it reconnected) shows now; what
  // changes from here on comes through it, or ends it.
  refreshState().catch(failed);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      handleEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

function handleEvent(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue; // a keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return;
  const payload = JSON.parse(data.join("\n"));
  if (event === "request") {
    addEntry(payload);
    // A read changes nothing the panels show, unless a fault acted on it (its counts).
    if (payload.method !== "GET" || payload.fault) refreshSoon();
  } else if (event === "cleared" || event === "reset") {
    journal = []; // after a reset the stream ends; the next one starts the new run
    renderJournal();
  }
}

async function follow() {
  for (;;) {
    let broken = false;
    try {
      await stream();
    } catch (err) {
      if (err instanceof AuthNeeded) return;
      // Aborted: another namespace was picked (listen again at once). Otherwise the
      // server is gone or refused: wait before trying again.
      broken = err.name !== "AbortError";
    }
    setLive(false);
    // A stream that ended cleanly was a reset or a load: listen again at once (the new
    // stream refreshes the panels); a broken one after a pause.
    if (broken) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

let following = false;

async function start() {
  try {
    await refreshState();
  } catch (err) {
    failed(err);
    return;
  }
  if (!following) {
    following = true;
    follow().finally(() => { following = false; });
  }
}

start();
