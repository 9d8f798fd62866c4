//! The step-through section of `report.html`: the moments as an ordered list (what a reader
//! without JavaScript gets, and what a printout keeps), the moments' states as JSON, and a small
//! script that draws the current moment's logs and moves through them with previous/next
//! buttons, the arrow keys, a slider over simulated time, and `#step=N` in the address.
//! Self-contained: no network, no library.

use super::model::{Moment, Steps};
use crate::text::esc;
use serde_json::{json, Value};

/// The section for `steps`; empty when the partition had no moment.
pub fn section(steps: &Steps, end_us: u64) -> String {
    if steps.moments.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section id=\"step\">\n<h2>Step through partition {}</h2>\n<p class=\"step-help\">{}</p>\n",
        steps.partition, HELP
    );
    out.push_str("<div id=\"step-stage\" hidden></div>\n<ol class=\"moments\">\n");
    for (i, m) in steps.moments.iter().enumerate() {
        out.push_str(&format!("<li id=\"moment-{i}\" class=\"{}\">{}</li>\n", m.kind.name(), esc(&m.text)));
    }
    out.push_str("</ol>\n");
    if steps.left_out > 0 {
        out.push_str(&format!(
            "<p class=\"more\">{} later moments are not listed (at most {} per partition).</p>\n",
            steps.left_out,
            super::model::MOMENTS_MAX
        ));
    }
    let data = json!({
        "end_us": end_us,
        "offsets_max": steps.offsets_max,
        "moments": steps.moments.iter().map(moment).collect::<Vec<Value>>(),
    });
    // `</` would end the script element early.
    let data = data.to_string().replace("</", "<\\/");
    out.push_str(&format!("<script type=\"application/json\" id=\"step-data\">{data}</script>\n"));
    out.push_str(&format!("<script>\n{SCRIPT}</script>\n</section>\n"));
    out
}

const HELP: &str = "The run as a sequence of its key moments. With JavaScript on, each moment draws every \
replica's log as runs of offsets coloured by the leader epoch they were written in, its high watermark \
(dashed) and log end (triangle), the ISR and the leader, and each consumer's position (circle) and the \
group's committed offset (diamond). Use the buttons, the arrow keys or the slider; click a lost record \
under Findings to jump to its moment.";

fn moment(m: &Moment) -> Value {
    let s = &m.state;
    json!({
        "t_us": m.t_us,
        "kind": m.kind.name(),
        "text": m.text,
        "lost": m.lost.map(|(first, last, n)| json!([first.producer, first.seq, last.seq, n])),
        "leader": s.leader,
        "epoch": s.leader_epoch,
        "isr": s.isr,
        "committed": s.committed,
        "replicas": s.replicas.iter().map(|r| json!({
            "broker": r.broker,
            "hw": r.high_watermark,
            "leo": r.log_end_offset(),
            "down": r.down,
            "segments": r.segments.iter().map(|g| json!([g.start, g.end, g.epoch])).collect::<Vec<Value>>(),
        })).collect::<Vec<Value>>(),
        "consumers": s.consumers.iter().map(|c| json!({
            "consumer": c.consumer, "position": c.position, "down": c.down,
        })).collect::<Vec<Value>>(),
    })
}

/// Draws the current moment as SVG; plain DOM, no library.
const SCRIPT: &str = r#"(function () {
  var data = JSON.parse(document.getElementById('step-data').textContent);
  var stage = document.getElementById('step-stage');
  var items = document.querySelectorAll('#step ol.moments li');
  var moments = data.moments, at = 0;
  var EPOCH = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#e15759'];
  var W = 1000, X0 = 170, X1 = W - 30, ROW = 38;
  var max = Math.max(data.offsets_max, 1);
  function x(o) { return X0 + (X1 - X0) * o / max; }
  function t(us) { return (us / 1e6).toFixed(3) + ' s'; }
  function el(name, attrs, text) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  stage.hidden = false;
  stage.innerHTML = '<div class="step-controls"><button type="button" id="step-prev">&#9664; previous</button> ' +
    '<button type="button" id="step-next">next &#9654;</button> <input type="range" id="step-time" min="0" max="' +
    data.end_us + '" step="1000" value="0" aria-label="simulated time"> <span id="step-where"></span></div>' +
    '<p id="step-text" class="step-text"></p>';
  var svg = el('svg', {id: 'step-svg', viewBox: '0 0 ' + W + ' 100', role: 'img'});
  stage.appendChild(svg);
  function draw() {
    var m = moments[at];
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var y = 28;
    svg.appendChild(el('text', {x: X0, y: 16, 'class': 'axis'}, 'offset 0'));
    svg.appendChild(el('text', {x: X1, y: 16, 'text-anchor': 'end', 'class': 'axis'}, 'offset ' + data.offsets_max));
    m.replicas.forEach(function (r) {
      var g = el('g', {opacity: r.down ? 0.4 : 1});
      var role = (m.leader === r.broker ? 'leader' : 'follower') + (m.isr.indexOf(r.broker) >= 0 ? ', ISR' : '');
      g.appendChild(el('text', {x: 8, y: y + 20, 'class': 'lane'}, 'b' + r.broker + ' (' + (r.down || role) + ')'));
      g.appendChild(el('rect', {x: X0, y: y + 4, width: X1 - X0, height: 24, fill: '#f4f4f4', stroke: '#bbb'}));
      r.segments.forEach(function (s) {
        var w = Math.max(x(s[1]) - x(s[0]), 1);
        g.appendChild(el('rect', {x: x(s[0]), y: y + 4, width: w, height: 24, fill: EPOCH[s[2] % EPOCH.length],
          stroke: '#fff', 'stroke-width': max <= 60 ? 1 : 0}));
        if (w > 34) g.appendChild(el('text', {x: x(s[0]) + 3, y: y + 21, 'class': 'cell'}, 'e' + s[2]));
      });
      if (max <= 60) for (var o = 0; o < r.leo; o++)
        g.appendChild(el('line', {x1: x(o), x2: x(o), y1: y + 4, y2: y + 28, stroke: '#fff', 'stroke-width': 1}));
      g.appendChild(el('line', {x1: x(r.hw), x2: x(r.hw), y1: y, y2: y + 32, stroke: '#111', 'stroke-width': 2,
        'stroke-dasharray': '4 3'}));
      g.appendChild(el('path', {d: 'M' + x(r.leo) + ' ' + (y + 28) + ' l-6 8 h12 z', fill: '#111'}));
      svg.appendChild(g);
      y += ROW;
    });
    m.consumers.forEach(function (c) {
      var g = el('g', {opacity: c.down ? 0.4 : 1});
      g.appendChild(el('text', {x: 8, y: y + 20, 'class': 'lane'}, 'c' + c.consumer + (c.down ? ' (down)' : '')));
      g.appendChild(el('line', {x1: X0, x2: X1, y1: y + 16, y2: y + 16, stroke: '#bbb'}));
      if (m.committed !== null) g.appendChild(el('path', {d: 'M' + x(m.committed) + ' ' + (y + 8) +
        ' l8 8 l-8 8 l-8 -8 z', fill: '#fff', stroke: '#111', 'stroke-width': 2}));
      if (c.position !== null) g.appendChild(el('circle', {cx: x(c.position), cy: y + 16, r: 6, fill: '#111'}));
      svg.appendChild(g);
      y += ROW;
    });
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + (y + 8));
    document.getElementById('step-text').textContent = m.text;
    document.getElementById('step-where').textContent = 'moment ' + (at + 1) + ' of ' + moments.length +
      ' \u00b7 ' + t(m.t_us) + ' \u00b7 leader ' + (m.leader === null ? 'none' : 'b' + m.leader) +
      ', epoch ' + m.epoch + ', ISR {' + m.isr.map(function (b) { return 'b' + b; }).join(', ') + '}';
    document.getElementById('step-time').value = m.t_us;
    items.forEach(function (li, i) { li.classList.toggle('current', i === at); });
  }
  function go(i) { at = Math.max(0, Math.min(moments.length - 1, i)); draw(); }
  document.getElementById('step-prev').onclick = function () { go(at - 1); };
  document.getElementById('step-next').onclick = function () { go(at + 1); };
  document.getElementById('step-time').oninput = function (e) {
    var v = Number(e.target.value), i = 0;
    moments.forEach(function (m, k) { if (m.t_us <= v) i = k; });
    go(i);
  };
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight') go(at + 1);
    if (e.key === 'ArrowLeft') go(at - 1);
  });
  items.forEach(function (li, i) { li.onclick = function () { go(i); }; });
  // A lost record under Findings: the first moment that acknowledged or removed it.
  document.querySelectorAll('[data-record]').forEach(function (li) {
    li.classList.add('pickable');
    li.onclick = function () {
      var p = li.getAttribute('data-record').match(/^p(\d+)#(\d+)$/);
      if (!p) return;
      var prod = Number(p[1]), seq = Number(p[2]);
      document.querySelectorAll('.picked').forEach(function (e) { e.classList.remove('picked'); });
      li.classList.add('picked');
      for (var k = 0; k < moments.length; k++) {
        var l = moments[k].lost;
        if (l && l[0] === prod && l[1] <= seq && seq <= l[2]) { go(k); break; }
      }
      document.getElementById('step').scrollIntoView();
    };
  });
  // `report.html#step=N` opens at moment N (a link to a moment, a slide, a test).
  var hash = location.hash.match(/^#step=(\d+)$/);
  go(hash ? Number(hash[1]) : 0);
})();
"#;
