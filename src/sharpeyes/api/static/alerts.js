"use strict";
// The alerts panel beside the wall: the newest events (rules broken, camera and storage faults) with the picture an
// analytics event was raised on, kept current over the events WebSocket. Uses api(), t(), lang and token (app.js).

const ALERT_TEXT = {
  zh: {
    alerts: "告警", none: "暂无告警",
    "analytics.intrusion": "区域入侵", "analytics.loitering": "徘徊逗留", "analytics.crowd": "人员聚集",
    "analytics.left_object": "物品遗留", "analytics.line_crossing": "越线",
    "camera.flapping": "频繁掉线", "camera.calm": "恢复稳定", "camera.quality_failed": "画质异常",
    "camera.quality_restored": "画质恢复", "storage.low_space": "存储空间不足",
  },
  en: {
    alerts: "Alerts", none: "no alerts yet",
    "analytics.intrusion": "Intrusion", "analytics.loitering": "Loitering", "analytics.crowd": "Crowd",
    "analytics.left_object": "Left object", "analytics.line_crossing": "Line crossed",
    "camera.flapping": "Camera flapping", "camera.calm": "Camera steady again", "camera.quality_failed": "Picture fault",
    "camera.quality_restored": "Picture restored", "storage.low_space": "Storage low",
  },
};
const ALERTS_KEPT = 50;
const alertState = { socket: null, events: [], pictures: new Map(), retry: null };

function alertText(key) { return ALERT_TEXT[lang][key] || key; }

async function startAlerts() {
  stopAlerts();
  $("alerts").hidden = false;
  try {
    const response = await api(`/api/v1/events?limit=${ALERTS_KEPT}`);
    if (response.ok) alertState.events = await response.json();
  } catch (err) { /* the stream below still brings new ones */ }
  renderAlerts();
  listenForAlerts();
}

function listenForAlerts() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events/live`);
  alertState.socket = socket;
  socket.onopen = () => socket.send(JSON.stringify({ token }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (!event.id) return; // {"type": "ready"} and errors
    alertState.events = [event, ...alertState.events.filter((e) => e.id !== event.id)].slice(0, ALERTS_KEPT);
    renderAlerts();
  };
  socket.onclose = () => {
    if (alertState.socket !== socket || !token) return;
    alertState.retry = setTimeout(listenForAlerts, 3000); // the server restarted or the network blinked
  };
}

function stopAlerts() {
  const socket = alertState.socket;
  alertState.socket = null;
  if (socket) socket.close();
  clearTimeout(alertState.retry);
  alertState.pictures.forEach((url) => URL.revokeObjectURL(url));
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
  let url = alertState.pictures.get(id);
  if (!url) {
    try {
      const response = await api(`/api/v1/events/${id}/snapshot.jpg`);
      if (!response.ok) return;
      url = URL.createObjectURL(await response.blob());
    } catch (err) { return; }
    if (alertState.pictures.has(id)) URL.revokeObjectURL(url); else alertState.pictures.set(id, url);
    url = alertState.pictures.get(id);
  }
  img.src = url;
}
