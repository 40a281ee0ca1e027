"use strict";
// The first page: sign in, then a wall of camera snapshots refreshed every second, with the alerts panel
// (alerts.js) beside it.

const TEXT = {
  zh: {
    title: "雪亮 · 视频联网平台", signin: "登录", username: "用户名", password: "密码", logout: "退出",
    lang: "English", online: "在线", idle: "空闲", connecting: "连接中", offline: "离线", error: "故障",
    summary: (n, on) => `共 ${n} 路摄像机，${on} 路在线`, nopicture: "暂无画面",
    badlogin: "用户名或密码错误", live: "实时", close: "关闭", starting: "正在连接…", ended: "实时流已结束",
    masklift: "解除遮挡", masklifgo: "确认解除", maskreason: "解除原因（将记入审计）", maskedit: "隐私遮挡",
    maskhelp: "在画面上依次点击多边形顶点", maskclosepolygon: "完成此区域", maskclear: "清除全部",
    masksave: "保存遮挡", maskcancel: "取消", masklifted: "遮挡已解除（已审计）", maskssaved: (n) => `已保存 ${n} 个遮挡区域`,
    sso: (name) => (name ? `使用 ${name} 登录` : "使用单点登录"),
    ssoerror: {
      oidc_provider_error: "身份提供方拒绝了登录", oidc_bad_state: "登录请求已失效，请重新登录",
      oidc_wrong_browser: "登录请求来自其他浏览器，请重新登录", oidc_bad_token: "身份令牌无效，登录被拒绝",
      oidc_no_username: "身份信息中没有用户名，请联系管理员",
      unknown_user: "平台上没有与您的身份对应的用户，请联系管理员创建",
      locked_out: "账户已锁定，请稍后再试", address_blocked: "登录失败次数过多，请稍后再试",
      oidc_unavailable: "暂时无法连接身份提供方，请稍后再试", other: "单点登录失败",
    },
  },
  en: {
    title: "Sharp Eyes · public video network", signin: "Sign in", username: "User name", password: "Password",
    logout: "Sign out", lang: "中文", online: "online", idle: "idle", connecting: "connecting", offline: "offline", error: "error",
    summary: (n, on) => `${n} cameras, ${on} online`, nopicture: "no picture yet",
    badlogin: "wrong user name or password", live: "live", close: "Close", starting: "connecting…",
    ended: "the live stream ended",
    masklift: "Lift masks", masklifgo: "Lift", maskreason: "why (kept in the audit trail)", maskedit: "Privacy masks",
    maskhelp: "click the corners of an area on the picture", maskclosepolygon: "Close area", maskclear: "Clear all",
    masksave: "Save masks", maskcancel: "Cancel", masklifted: "masks lifted (audited)",
    maskssaved: (n) => `${n} mask area(s) saved`,
    sso: (name) => `Sign in with ${name || "SSO"}`,
    ssoerror: {
      oidc_provider_error: "the identity provider refused the sign-in",
      oidc_bad_state: "this sign-in expired or was used already: try again",
      oidc_wrong_browser: "this sign-in was started in another browser: try again",
      oidc_bad_token: "the identity provider's token was not valid: sign-in refused",
      oidc_no_username: "your identity carries no user name: ask an administrator",
      unknown_user: "no user on this platform matches your identity: ask an administrator to create one",
      locked_out: "the account is locked out: try again later",
      address_blocked: "too many failed logins: try again later",
      oidc_unavailable: "the identity provider cannot be reached now: try again later", other: "single sign-on failed",
    },
  },
};

// Single sign-on comes back as /#oidc_token=TOKEN (or #oidc_error=CODE): a fragment never reaches a server. Keep the
// token as the password login does and take it out of the address bar (and history) at once.
function takeSsoAnswer() {
  const answer = new URLSearchParams(location.hash.slice(1));
  if (!answer.has("oidc_token") && !answer.has("oidc_error")) return null;
  history.replaceState(null, "", location.pathname + location.search);
  if (answer.get("oidc_token")) sessionStorage.setItem("sharpeyes.token", answer.get("oidc_token"));
  return answer.get("oidc_error");
}

let ssoError = takeSsoAnswer();
let sso = { enabled: false, display_name: null };
let lang = localStorage.getItem("sharpeyes.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let token = sessionStorage.getItem("sharpeyes.token");
let me = { username: "", role: "", permissions: [] };
let timer = null;
const tiles = new Map();

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key];

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("mask-reason").placeholder = t("maskreason");
  $("lang").textContent = t("lang");
  $("sso").textContent = t("sso")(sso.display_name);
  if (ssoError) $("login-error").textContent = t("ssoerror")[ssoError] || `${t("ssoerror").other} (${ssoError})`;
  document.title = t("title");
}

async function offerSso() {
  try {
    const response = await fetch("/api/v1/auth/oidc");
    if (response.ok) sso = await response.json();
  } catch (err) { return; }
  $("sso").hidden = !sso.enabled;
  $("sso").textContent = t("sso")(sso.display_name);
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {}, token ? { Authorization: `Bearer ${token}` } : {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401 && token) { signOut(); throw new Error("signed out"); }
  return response;
}

function showLogin() {
  $("login").hidden = false; $("wall").hidden = true; $("logout").hidden = true;
  $("search").hidden = true; $("search-toggle").hidden = true;
  offerSso();
}

async function loadMe() {
  try {
    const response = await api("/api/v1/auth/me");
    if (response.ok) me = await response.json();
  } catch (err) { /* signed out */ }
}

function showWall() {
  loadMe();
  $("login").hidden = true; $("wall").hidden = false; $("logout").hidden = false; $("search-toggle").hidden = false;
  refresh();
  timer = setInterval(refresh, 1000);
  startAlerts();
}

function signOut() {
  closeLive();
  stopAlerts();
  token = null; sessionStorage.removeItem("sharpeyes.token");
  me = { username: "", role: "", permissions: [] };
  clearInterval(timer); timer = null;
  tiles.forEach((tile) => { if (tile.url) URL.revokeObjectURL(tile.url); });
  tiles.clear(); $("grid").replaceChildren();
  showLogin();
}

function tileFor(camera) {
  let tile = tiles.get(camera.id);
  if (tile) return tile;
  const root = document.createElement("article");
  root.className = "camera"; root.dataset.cameraId = camera.id;
  root.innerHTML = '<div class="frame"><span class="none"></span></div>' +
    '<div class="meta"><span class="name"></span><span class="badge"></span><span class="reason"></span></div>';
  root.addEventListener("click", () => openLive(camera.id, root.querySelector(".name").textContent));
  $("grid").appendChild(root);
  tile = { root, url: null, busy: false };
  tiles.set(camera.id, tile);
  return tile;
}

function render(camera) {
  const tile = tileFor(camera);
  tile.root.querySelector(".name").textContent = camera.name;
  const badge = tile.root.querySelector(".badge");
  badge.className = `badge ${camera.status}`; badge.textContent = t(camera.status);
  tile.root.dataset.status = camera.status;
  const working = ["online", "idle", "connecting"].includes(camera.status);
  tile.root.querySelector(".reason").textContent = working ? "" : camera.status_reason;
  if (!tile.url) tile.root.querySelector(".none").textContent = t("nopicture");
  if (working) loadSnapshot(camera.id, tile); // a wall is a viewer: an idle camera starts streaming for it
}

async function loadSnapshot(id, tile) {
  if (tile.busy) return;
  tile.busy = true;
  try {
    const response = await api(`/api/v1/cameras/${encodeURIComponent(id)}/snapshot.jpg?profile=sub`); // 子码流 when the camera has one
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    let img = tile.root.querySelector("img");
    if (!img) {
      img = document.createElement("img"); img.alt = "";
      tile.root.querySelector(".frame").replaceChildren(img);
    }
    img.src = url;
    img.dataset.frameTime = response.headers.get("X-Frame-Time") || "";
    if (tile.url) URL.revokeObjectURL(tile.url);
    tile.url = url;
  } catch (err) {
    // a failed refresh is retried on the next tick
  } finally {
    tile.busy = false;
  }
}

async function refresh() {
  let cameras;
  try {
    const response = await api("/api/v1/cameras");
    if (!response.ok) return;
    cameras = await response.json();
  } catch (err) { return; }
  const seen = new Set(cameras.map((c) => c.id));
  tiles.forEach((tile, id) => { if (!seen.has(id)) { tile.root.remove(); tiles.delete(id); } });
  cameras.forEach(render);
  const online = cameras.filter((c) => c.status === "online").length;
  $("summary").textContent = t("summary")(cameras.length, online);
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("login-error").textContent = ""; ssoError = null;
  const response = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  if (!response.ok) { $("login-error").textContent = t("badlogin"); return; }
  token = (await response.json()).access_token;
  sessionStorage.setItem("sharpeyes.token", token);
  showWall();
});

$("sso").addEventListener("click", () => { location.assign("/api/v1/auth/oidc/login"); });

// Live view: fMP4 fragments over a WebSocket into Media Source Extensions (about one frame of latency).
let viewer = null;

// ``query``: e.g. lift_masks=true&reason=… (privacy masks are painted in by the server unless lifted).
function openLive(id, name, query = "") {
  closeLive();
  const video = document.querySelector("#live video");
  $("live").hidden = false;
  document.querySelector("#live .live-name").textContent = name;
  const state = document.querySelector("#live .live-state");
  state.textContent = t("starting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const where = `${scheme}://${location.host}/api/v1/cameras/${encodeURIComponent(id)}/live`;
  const socket = new WebSocket(query ? `${where}?${query}` : where);
  socket.binaryType = "arraybuffer";
  viewer = { socket, source: null, buffer: null, pending: [], cameraId: id, name, lifted: Boolean(query) };
  if (typeof showMaskTools === "function") showMaskTools(viewer);
  const current = viewer;
  socket.onopen = () => socket.send(JSON.stringify({ token }));
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "start") startSource(current, video, message.mime, state);
      else if (message.type === "error") state.textContent = message.detail;
      return;
    }
    current.pending.push(event.data);
    feed(current, video);
  };
  socket.onclose = () => { if (viewer === current && !state.textContent) state.textContent = t("ended"); };
}

function startSource(current, video, mime, state) {
  const source = new MediaSource();
  current.source = source; current.buffer = null; current.pending = [];
  video.src = URL.createObjectURL(source);
  source.addEventListener("sourceopen", () => {
    current.buffer = source.addSourceBuffer(mime);
    current.buffer.mode = "segments";
    current.buffer.addEventListener("updateend", () => feed(current, video));
    state.textContent = "";
    feed(current, video);
  });
}

function feed(current, video) {
  const buffer = current.buffer;
  if (!buffer || buffer.updating || current.pending.length === 0) return;
  buffer.appendBuffer(current.pending.shift());
  const ranges = video.buffered;
  if (ranges.length && ranges.end(ranges.length - 1) - video.currentTime > 1.0) {
    video.currentTime = ranges.end(ranges.length - 1) - 0.1; // stay at the live edge
  }
  if (video.paused) video.play().catch(() => {});
}

function closeLive() {
  if (viewer) { viewer.socket.close(); viewer = null; }
  if (typeof hideMaskTools === "function") hideMaskTools();
  const video = document.querySelector("#live video");
  video.removeAttribute("src"); video.load();
  $("live").hidden = true;
}

$("live-close").addEventListener("click", closeLive);
$("logout").addEventListener("click", signOut);
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("sharpeyes.lang", lang);
  applyLanguage(); refresh(); renderAlerts(); if (typeof renderSearchLabels === "function") renderSearchLabels();
});

applyLanguage();
if (token) showWall(); else showLogin();
