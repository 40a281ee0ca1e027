"use strict";
// The alerts panel beside the wall: the newest events (rules broken, camera and storage faults) with the picture an
// analytics event was raised on, kept current over the events WebSocket. Uses api(), t(), lang and token (app.js).

const ALERT_TEXT = {
  zh: {
    alerts: "告警", none: "暂无告警",
    "analytics.intrusion": "区域入侵", "analytics.loitering": "徘徊逗留", "analytics.crowd": "人员聚集",
    "analytics.left_object": "物品遗留", "analytics.line_crossing": "越线",
    "camera.flapping": "频繁掉线", "camera.calm": "恢复稳定", "camera.quality_failed": "画质异常",
    "camera.quality_restored": "画质恢复", "storage.low_space": "存储空间不足", "device.alarm": "设备报警",
  },
  en: {
    alerts: "Alerts", none: "no alerts yet",
    "analytics.intrusion": "Intrusion", "analytics.loitering": "Loitering", "analytics.crowd": "Crowd",
    "analytics.left_object": "Left object", "analytics.line_crossing": "Line crossed",
    "camera.flapping": "Camera flapping", "camera.calm": "Camera steady again", "camera.quality_failed": "Picture fault",
    "camera.quality_restored": "Picture restored", "storage.low_space": "Storage low", "device.alarm": "Device alarm",
  },
};
const ALERTS_KEPT = 50;
const alertState = { socket: null, events: [], pictures: new Map(), retry: null, generation: 0 };
// pictures: event id → object URL, or null when the picture could not be had (not asked again).
// generation: bumped at every start and stop, so that answers for an earlier sign-in are dropped.

function alertText(key) { return ALERT_TEXT[lang][key] || key; }

async function startAlerts() {
  stopAlerts();
  const generation = alertState.generation;
  $("alerts").hidden = false;
  try {
    const response = await api(`/api/v1/events?limit=${ALERTS_KEPT}`);
    if (generation !== alertState.generation) return; // signed out (or in again) meanwhile
    if (response.ok) alertState.events = await response.json();
  } catch (err) {
    if (generation !== alertState.generation) return;
  }
  renderAlerts();
  listenForAlerts(generation);
}

function listenForAlerts(generation) {
  if (generation !== alertState.generation) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events/live`);
  alertState.socket = socket;
  socket.onopen = () => socket.send(JSON.stringify({ token }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (!event.id) return; // {"type": "ready"} and errors
    alertState.events = [event, ...alertState.events.filter((e) => e.id !== event.id)].slice(0, ALERTS_KEPT);
    forgetOldPictures();
    renderAlerts();
  };
  socket.onclose = () => {
    if (alertState.socket !== socket || !token) return;
    alertState.retry = setTimeout(() => listenForAlerts(generation), 3000); // the server restarted or the network blinked
  };
}

function forgetOldPictures() {
  const kept = new Set(alertState.events.map((e) => e.id));
  alertState.pictures.forEach((url, id) => {
    if (kept.has(id)) return;
    if (url) URL.revokeObjectURL(url);
    alertState.pictures.delete(id);
  });
}

function stopAlerts() {
  alertState.generation += 1;
  const socket = alertState.socket;
  alertState.socket = null;
  if (socket) socket.close();
  clearTimeout(alertState.retry);
  alertState.pictures.forEach((url) => { if (url) URL.revokeObjectURL(url); });
  alertState.pictures.clear();
  alertState.events = [];
  $("alert-list").replaceChildren();
  $("alerts").hidden = true;
}

function renderAlerts() {
  $("alerts-title").textContent = alertText("alerts");
  const list = $("alert-list");
  if (alertState.events.length === 0) {
    const empty = document.createElement("li"); empty.className = "none"; empty.textContent = alertText("none");
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(...alertState.events.map(alertItem));
}

function alertItem(event) {
  const item = document.createElement("li");
  item.className = `alert ${event.type.split(".")[0]}`;
  item.dataset.type = event.type; item.dataset.eventId = event.id;
  const when = new Date(event.at).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
  const camera = event.camera_id ? tiles.get(event.camera_id) : null;
  const cameraName = camera ? camera.root.querySelector(".name").textContent : (event.camera_id || "");
  item.innerHTML = '<div class="alert-head"><span class="kind"></span><time></time></div>' +
    '<div class="where"></div><div class="detail"></div>';
  item.querySelector(".kind").textContent = alertText(event.type);
  item.querySelector("time").textContent = when;
  item.querySelector("time").dateTime = event.at;
  item.querySelector(".where").textContent = cameraName;
  item.querySelector(".detail").textContent = event.detail;
  if (event.data && event.data.snapshot) {
    const img = document.createElement("img"); img.alt = alertText(event.type);
    item.insertBefore(img, item.firstChild);
    showAlertPicture(event.id, img);
  }
  if (event.camera_id) item.addEventListener("click", () => openLive(event.camera_id, cameraName));
  return item;
}

async function showAlertPicture(id, img) {
  if (alertState.pictures.has(id)) {
    const known = alertState.pictures.get(id);
    if (known) img.src = known; else img.remove(); // null: it could not be had
    return;
  }
  const generation = alertState.generation;
  let url = null;
  try {
    const response = await api(`/api/v1/events/${id}/snapshot.jpg`);
    if (response.ok) url = URL.createObjectURL(await response.blob());
  } catch (err) { /* remembered as missing below */ }
  const wanted = generation === alertState.generation && alertState.events.some((e) => e.id === id);
  if (!wanted) { if (url) URL.revokeObjectURL(url); return; }
  if (alertState.pictures.has(id)) { // asked twice at once: keep the first answer
    if (url) URL.revokeObjectURL(url);
    url = alertState.pictures.get(id);
  } else {
    alertState.pictures.set(id, url);
  }
  if (url) img.src = url; else img.remove();
}
