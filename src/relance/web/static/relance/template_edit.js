// The template editor's live preview (no inline script: the Content-Security-Policy forbids it),
// with the writing check's problems underlined (issue 17): the server cuts the text into
// segments; the script only builds text nodes and <mark> elements (never HTML).
(function () {
  var form = document.getElementById("template-form");
  var problem = document.getElementById("template-problem");
  var subject = document.getElementById("preview-subject");
  var frame = document.getElementById("preview-frame");
  var review = document.getElementById("writing-review");
  var timer = null;
  function fill(target, segments) {
    if (!target) { return; }
    target.textContent = "";
    (segments || []).forEach(function (s) {
      if (!s.kind) { target.appendChild(document.createTextNode(s.text)); return; }
      var mark = document.createElement("mark");
      mark.className = "writing-" + s.kind;
      mark.title = s.title;
      mark.textContent = s.text;
      target.appendChild(mark);
    });
  }
  function list(problems) {
    var ul = document.getElementById("writing-problems");
    var summary = document.getElementById("writing-summary");
    if (!ul || !review) { return; }
    ul.textContent = "";
    (problems || []).forEach(function (p) {
      var li = document.createElement("li");
      var kind = document.createElement("span");
      li.className = "writing-" + p.kind;
      kind.className = "writing-kind";
      kind.textContent = p.kind;
      li.appendChild(kind);
      var text = " « " + p.text + " » : " + p.message;
      if (p.suggestions && p.suggestions.length) { text += " — " + review.dataset.suggest + " " + p.suggestions.join(", "); }
      li.appendChild(document.createTextNode(text));
      ul.appendChild(li);
    });
    if (summary) { summary.textContent = (problems && problems.length) ? review.dataset.some : review.dataset.none; }
  }
  function refresh() {
    fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { problem.textContent = data.error; return; }
        problem.textContent = "";
        subject.textContent = data.subject;
        frame.srcdoc = data.html;
        if (data.segments) {
          fill(document.getElementById("writing-text"), data.segments);
          fill(document.getElementById("writing-subject"), data.subject_segments);
          list(data.problems);
        }
      });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
})();
