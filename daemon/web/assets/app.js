// toppass dashboard: live updates over server-sent events. Every page is
// complete without this script; it only keeps the overview's numbers and
// the job tables current.
"use strict";
(function () {
  if (!window.EventSource) return;
  const $ = (id) => document.getElementById(id);
  const text = (id, v) => { const e = $(id); if (e) e.textContent = v; };
  const dot = $("live-dot");

  function jobRow(j) {
    let tr = $("job-" + j.job);
    const table = document.querySelector("table.jobs tbody");
    if (!tr && table) {
      const empty = table.querySelector("tr.empty");
      if (empty) empty.remove();
      tr = document.createElement("tr");
      tr.id = "job-" + j.job;
      tr.dataset.job = j.job;
      for (let i = 0; i < 5; i++) tr.appendChild(document.createElement("td"));
      const p = document.createElement("progress");
      p.setAttribute("aria-label", "job " + j.job + " progress");
      const count = document.createElement("span");
      count.className = "count";
      tr.children[3].append(p, " ", count);
      tr.children[4].className = "note";
      table.prepend(tr);
    }
    if (!tr) return;
    tr.children[0].textContent = j.job;
    tr.children[1].textContent = j.kind;
    tr.children[2].textContent = j.state;
    tr.children[2].className = "state state-" + j.state;
    const p = tr.querySelector("progress");
    p.max = Math.max(1, j.total);
    p.value = j.done;
    tr.querySelector(".count").textContent = j.done + "/" + j.total;
    if (j.note) tr.children[4].textContent = j.note;
  }

  const es = new EventSource("/events");
  es.addEventListener("open", () => dot && dot.classList.add("on"));
  es.addEventListener("error", () => dot && dot.classList.remove("on"));
  es.addEventListener("job", (ev) => jobRow(JSON.parse(ev.data)));
  es.addEventListener("status", (ev) => {
    const s = JSON.parse(ev.data);
    text("live-labels", s.labels);
    text("live-pending", s.pending);
    text("live-rate", s.labels_per_s.toFixed(2));
    text("live-model", s.model);
    text("live-training", s.training ? "fine-tuning" : "not training");
    for (const j of s.jobs || []) {
      jobRow({ job: j.id, kind: j.kind, state: j.state, done: j.done, total: j.total, note: j.error });
    }
  });
})();
