// The template editor's live preview (no inline script: the Content-Security-Policy forbids it).
(function () {
  var form = document.getElementById("template-form");
  var problem = document.getElementById("template-problem");
  var subject = document.getElementById("preview-subject");
  var frame = document.getElementById("preview-frame");
  var timer = null;
  function refresh() {
    fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { problem.textContent = data.error; return; }
        problem.textContent = "";
        subject.textContent = data.subject;
        frame.srcdoc = data.html;
      });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
})();
