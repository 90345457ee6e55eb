// smsgw operator inbox: progressive enhancement only. Pages work without it; with it, the
// reply box counts characters and SMS parts, times show in the browser's own time zone and
// the live regions refresh by short polling.
"use strict";

// Mirrors smsgw.pdu.segment.count_parts (the tests compare the two on a table of texts).
// The GSM-7 tables come from the server (data attributes), taken from the encoder itself.
function smsgwCountParts(text, basicChars, extensionChars) {
  const basic = new Set(Array.from(basicChars));
  const extension = new Set(Array.from(extensionChars));
  const chars = Array.from(text); // code points, as Python iterates a str
  const gsm = chars.every((c) => basic.has(c) || extension.has(c));
  const costs = gsm
    ? chars.map((c) => (extension.has(c) && !basic.has(c) ? 2 : 1))
    : chars.map((c) => (c.codePointAt(0) > 0xffff ? 2 : 1));
  const single = gsm ? 160 : 70;
  const perPart = gsm ? 153 : 67;
  const total = costs.reduce((a, b) => a + b, 0);
  if (total <= single) {
    return { encoding: gsm ? "gsm7" : "ucs2", parts: 1, units: total, perPart: single };
  }
  let parts = 1;
  let used = 0;
  for (const units of costs) {
    if (used + units > perPart) { parts += 1; used = 0; }
    used += units;
  }
  return { encoding: gsm ? "gsm7" : "ucs2", parts: parts, units: total, perPart: perPart };
}
window.smsgwCountParts = smsgwCountParts;

function setUpCounter(form) {
  const box = form.querySelector("textarea");
  const out = form.querySelector("#reply-counter");
  if (!box || !out) return;
  const basic = JSON.parse(form.dataset.gsm7);
  const extension = JSON.parse(form.dataset.gsm7Ext);
  const maxParts = Number(form.dataset.maxParts);
  const update = () => {
    const count = smsgwCountParts(box.value, basic, extension);
    const alphabet = count.encoding === "gsm7" ? "GSM-7" : "UCS-2";
    const limit = count.parts === 1 ? count.perPart : count.parts * count.perPart;
    out.textContent = `${count.units} / ${limit} · ${count.parts} SMS · ${alphabet}`
      + (count.parts > maxParts ? ` · too long (at most ${maxParts} SMS)` : "");
    out.dataset.parts = String(count.parts);
    out.dataset.encoding = count.encoding;
    out.dataset.units = String(count.units);
    out.classList.toggle("over", count.parts > maxParts);
  };
  box.addEventListener("input", update);
  update();
}

function pad(number) {
  return String(number).padStart(2, "0");
}

// The server writes every time in UTC ("2026-12-04 13:05 UTC") with its ISO form in the
// element's datetime attribute; the operator reads them in the browser's time zone.
function showLocalTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((element) => {
    const at = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) return;
    const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
      .formatToParts(at)
      .find((part) => part.type === "timeZoneName");
    element.title = element.textContent;
    element.textContent = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} `
      + `${pad(at.getHours())}:${pad(at.getMinutes())}${zone ? ` ${zone.value}` : ""}`;
    element.dataset.local = "1";
  });
}
window.smsgwShowLocalTimes = showLocalTimes;

function setUpLive(region) {
  const url = region.dataset.live;
  const interval = Number(region.dataset.interval || 2000);
  let busy = false;
  let last = null; // the fragment as last fetched (innerHTML would re-serialise it)
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.assign(window.location.pathname); return; }
      if (!response.ok) return;
      const html = await response.text();
      if (html !== last) {
        last = html;
        const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        region.innerHTML = html;
        showLocalTimes(region);
        if (region.id === "thread" && atBottom) window.scrollTo(0, document.body.scrollHeight);
      }
    } catch (error) {
      // Offline for a moment: the next tick tries again.
    } finally {
      busy = false;
    }
  };
  window.setInterval(tick, interval);
}

document.addEventListener("DOMContentLoaded", () => {
  const reply = document.getElementById("reply");
  if (reply) setUpCounter(reply);
  showLocalTimes(document);
  document.querySelectorAll("[data-live]").forEach(setUpLive);
  const thread = document.getElementById("thread");
  if (thread) window.scrollTo(0, document.body.scrollHeight);
});
