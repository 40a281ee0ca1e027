"use strict";
// The search page: one box in Chinese or English, a purpose (case number or reason), results as pictures.
// Uses api(), $, lang, tiles and openLive() from app.js.

const SEARCH_TEXT = {
  zh: {
    search: "检索", back: "返回", placeholder: "例如：穿红衣服背蓝书包的小孩、白色汽车、昨天下午 电动车",
    reason: "事由或案件编号（必填）", go: "搜索", none: "没有找到", ignored: "未理解：", found: (n) => `找到 ${n} 条`,
    photo: "以图搜图", alike: "找相似", byExample: "按外观排序",
    upper: "上身", lower: "下身", person: "人员", car: "汽车", truck: "货车", bus: "公交车", motorcycle: "电动车/摩托车",
    bicycle: "自行车", backpack: "背包", handbag: "手提包", suitcase: "行李箱", umbrella: "雨伞",
    black: "黑色", grey: "灰色", white: "白色", red: "红色", orange: "橙色", yellow: "黄色", green: "绿色", blue: "蓝色",
    purple: "紫色", pink: "粉色", brown: "棕色",
  },
  en: {
    search: "Search", back: "Back", placeholder: "e.g. child in a red top with a blue schoolbag, white van, e-bike yesterday afternoon",
    reason: "Reason or case number (required)", go: "Search", none: "nothing found", ignored: "not understood: ",
    found: (n) => `${n} found`, upper: "upper", lower: "lower",
    photo: "Photo", alike: "Look-alikes", byExample: "ranked by likeness",
  },
};
const searchState = { pictures: [] };

function searchText(key) { return SEARCH_TEXT[lang][key] || key; }

function showSearch(open) {
  $("search").hidden = !open; $("wall").hidden = open;
  $("search-toggle").textContent = searchText(open ? "back" : "search");
  renderSearchLabels();
  if (open) $("search-text").focus();
}

function renderSearchLabels() {
  $("search-toggle").textContent = searchText($("search").hidden ? "search" : "back");
  $("search-text").placeholder = searchText("placeholder");
  $("search-reason").placeholder = searchText("reason");
  $("search-go").textContent = searchText("go");
  const photo = $("search-photo").files[0];
  $("search-photo-text").textContent = photo ? `${searchText("photo")}: ${photo.name} ×` : searchText("photo");
}

function pictureBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function forgetSearchPictures() {
  searchState.pictures.forEach((url) => URL.revokeObjectURL(url));
  searchState.pictures = [];
}

async function runSearch(event, example = {}) {
  if (event) event.preventDefault();
  const purpose = $("search-reason").value.trim();
  const body = { text: example.track_id ? "" : $("search-text").value, limit: 60, ...example };
  const photo = $("search-photo").files[0];
  if (photo && !example.track_id) body.image_base64 = await pictureBase64(photo);
  if (/^[A-Za-z0-9-]{3,}$/.test(purpose) && /\d/.test(purpose)) body.case_id = purpose; else body.reason = purpose;
  $("search-status").textContent = "…";
  let answer;
  try {
    const response = await api("/api/v1/search", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    answer = await response.json();
    if (!response.ok) { $("search-status").textContent = answer.detail || response.statusText; return; }
  } catch (err) { $("search-status").textContent = String(err); return; }
  forgetSearchPictures();
  const ignored = answer.ignored_terms.length ? ` · ${searchText("ignored")}${answer.ignored_terms.join("、")}` : "";
  const ranked = answer.understood.example || answer.understood.ranked_by_model ? ` · ${searchText("byExample")}` : "";
  $("search-status").textContent = (answer.results.length ? searchText("found")(answer.results.length) : searchText("none")) + ranked + ignored;
  $("search-results").replaceChildren(...answer.results.map(searchResult));
}

function searchResult(result) {
  const card = document.createElement("article");
  card.className = "result"; card.dataset.trackId = result.track_id;
  const camera = tiles.get(result.camera_id);
  const cameraName = camera ? camera.root.querySelector(".name").textContent : result.camera_id;
  const a = result.attributes;
  const colours = [a.upper_colour && `${searchText("upper")} ${searchText(a.upper_colour)}`,
    a.lower_colour && `${searchText("lower")} ${searchText(a.lower_colour)}`]
    .filter(Boolean).join(" · ");
  card.innerHTML = '<div class="picture"></div><div class="what"></div><div class="where"></div><time></time><div class="colours"></div>'
    + '<button type="button" class="alike"></button>';
  card.querySelector(".what").textContent = [searchText(result.class), ...a.carried.map(searchText)].join(" + ");
  card.querySelector(".where").textContent = [cameraName, ...(a.zones || [])].join(" · ");
  card.querySelector("time").textContent = new Date(result.start).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
  card.querySelector(".colours").textContent = colours;
  if (result.thumbnail_url) {
    const img = document.createElement("img"); img.alt = searchText(result.class);
    card.querySelector(".picture").appendChild(img);
    api(result.thumbnail_url).then((r) => (r.ok ? r.blob() : null)).then((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob); searchState.pictures.push(url); img.src = url;
    }).catch(() => {});
  }
  const alike = card.querySelector(".alike");
  alike.textContent = searchText("alike"); alike.hidden = !result.thumbnail_url;
  alike.addEventListener("click", (event) => { event.stopPropagation(); runSearch(null, { track_id: result.track_id }); });
  card.addEventListener("click", () => openLive(result.camera_id, cameraName));
  return card;
}

$("search-toggle").addEventListener("click", () => showSearch($("search").hidden));
$("search-form").addEventListener("submit", runSearch);
$("search-photo").addEventListener("change", renderSearchLabels);
$("search-photo-label").addEventListener("click", (event) => {  // a chosen photo: a click puts it away
  if (!$("search-photo").files.length) return;
  event.preventDefault(); $("search-photo").value = ""; renderSearchLabels();
});
