"use strict";
// Privacy masks in the live view: a camera manager draws them as polygons over the picture (corners clicked in
// order, kept as fractions of the picture) and saves them; the server then paints them into every view. A role
// with mask.lift may see the camera unmasked for this viewing, giving a reason that goes into the audit trail.
// Uses $, t, api, me, viewer and openLive (app.js).

const SVG = "http://www.w3.org/2000/svg";
const MASK_BUTTONS = ["mask-lift", "mask-reason", "mask-lift-go", "mask-edit", "mask-help", "mask-close-polygon",
  "mask-clear", "mask-save", "mask-cancel"];
let editing = null; // { polygons: [[[x, y], …], …], current: [[x, y], …] } while drawing

const may = (permission) => me.permissions.includes(permission);
const masksUrl = (id) => `/api/v1/cameras/${encodeURIComponent(id)}/privacy-masks`;

async function showMaskTools(current) {
  hideMaskTools();
  let masks = [];
  try {
    const response = await api(masksUrl(current.cameraId));
    if (response.ok) masks = await response.json();
  } catch (err) { return; }
  if (viewer !== current) return; // another camera was opened meanwhile
  current.masks = masks;
  $("mask-lift").hidden = !(masks.length && may("mask.lift") && !current.lifted);
  $("mask-edit").hidden = !may("camera.manage");
}

function hideMaskTools() {
  MASK_BUTTONS.forEach((id) => { $(id).hidden = true; });
  $("mask-reason").value = "";
  editing = null;
  $("mask-layer").toggleAttribute("hidden", true); // an <svg> has no .hidden property
  $("mask-layer").replaceChildren();
}

function showEditor(on) {
  ["mask-help", "mask-close-polygon", "mask-clear", "mask-save", "mask-cancel"].forEach((id) => { $(id).hidden = !on; });
  $("mask-edit").hidden = on; $("mask-lift").hidden = true;
  $("mask-layer").toggleAttribute("hidden", !on);
}

// The layer covers exactly the picture inside the <video> (which letterboxes it), so clicks map to fractions.
function placeLayer() {
  const video = document.querySelector("#live video");
  const layer = $("mask-layer");
  const box = video.getBoundingClientRect();
  const stage = video.parentElement.getBoundingClientRect();
  const width = video.videoWidth || 16, height = video.videoHeight || 9;
  const scale = Math.min(box.width / width, box.height / height);
  const w = width * scale, h = height * scale;
  Object.assign(layer.style, {
    left: `${box.left - stage.left + (box.width - w) / 2}px`, top: `${box.top - stage.top + (box.height - h) / 2}px`,
    width: `${w}px`, height: `${h}px`,
  });
}

function drawMasks() {
  const layer = $("mask-layer");
  const shapes = editing.polygons.map((points) => {
    const polygon = document.createElementNS(SVG, "polygon");
    polygon.setAttribute("points", points.map((p) => p.join(",")).join(" "));
    return polygon;
  });
  if (editing.current.length) {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", editing.current.map((p) => p.join(",")).join(" "));
    shapes.push(line);
    editing.current.forEach(([x, y]) => {
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.setAttribute("r", 0.008);
      shapes.push(dot);
    });
  }
  layer.replaceChildren(...shapes);
}

function closePolygon() {
  if (editing.current.length >= 3) editing.polygons.push(editing.current);
  editing.current = [];
  drawMasks();
}

$("mask-edit").addEventListener("click", () => {
  if (!viewer) return;
  editing = { polygons: (viewer.masks || []).map((mask) => mask.points), current: [] };
  showEditor(true);
  placeLayer();
  drawMasks();
});

$("mask-layer").addEventListener("click", (event) => {
  if (!editing) return;
  const box = $("mask-layer").getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
  editing.current.push([clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)]);
  drawMasks();
});

$("mask-close-polygon").addEventListener("click", closePolygon);
$("mask-clear").addEventListener("click", () => { editing.polygons = []; editing.current = []; drawMasks(); });
$("mask-cancel").addEventListener("click", () => { if (viewer) showMaskTools(viewer); });

$("mask-save").addEventListener("click", async () => {
  if (!viewer || !editing) return;
  closePolygon();
  const current = viewer;
  const polygons = editing.polygons.map((points) => ({ points }));
  const response = await api(masksUrl(current.cameraId), {
    method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ polygons }),
  });
  const state = document.querySelector("#live .live-state");
  if (!response.ok) { state.textContent = (await response.json()).detail; return; }
  openLive(current.cameraId, current.name); // the server paints the new masks from the next picture on
  document.querySelector("#live .live-name").textContent = `${current.name} · ${t("maskssaved")(polygons.length)}`;
});

$("mask-lift").addEventListener("click", () => {
  $("mask-lift").hidden = true; $("mask-reason").hidden = false; $("mask-lift-go").hidden = false;
  $("mask-reason").focus();
});

$("mask-lift-go").addEventListener("click", () => {
  const reason = $("mask-reason").value.trim();
  if (!viewer || !reason) { $("mask-reason").focus(); return; }
  const query = new URLSearchParams({ lift_masks: "true", reason }).toString();
  openLive(viewer.cameraId, viewer.name, query);
  document.querySelector("#live .live-name").textContent = `${viewer.name} · ${t("masklifted")}`;
});

window.addEventListener("resize", () => { if (editing) placeLayer(); });
