/* exsim web view: live updates by Server-Sent Events.
 *
 * The page is whole without this script.  The server sends, for the
 * parts that change, HTML it made and escaped itself:
 *   replace  {element id: html}   the element's content is replaced
 *   prepend  {element id: rows}   new rows go first (the newest MAX_ROWS stay)
 *   gone                          the thing shown no longer exists
 */
(function () {
  "use strict";
  var MAX_ROWS = 500;
  var body = document.body;
  var stream = body.getAttribute("data-stream");
  var live = document.getElementById("live");

  function status(text, on) {
    if (live) {
      live.textContent = text;
      live.className = "live " + (on ? "on" : "off");
    }
  }

  if (!stream || !window.EventSource) {
    return;
  }
  var source = new EventSource(stream);
  source.onopen = function () { status("live", true); };
  source.onerror = function () { status("reconnecting", false); };

  source.addEventListener("replace", function (event) {
    var parts = JSON.parse(event.data);
    Object.keys(parts).forEach(function (id) {
      var element = document.getElementById(id);
      if (element) {
        element.innerHTML = parts[id];
      }
    });
    body.setAttribute("data-updates", String(Number(body.getAttribute("data-updates") || 0) + 1));
  });

  source.addEventListener("prepend", function (event) {
    var parts = JSON.parse(event.data);
    Object.keys(parts).forEach(function (id) {
      var element = document.getElementById(id);
      if (!element) {
        return;
      }
      Array.prototype.forEach.call(element.querySelectorAll("tr.empty"), function (row) {
        row.parentNode.removeChild(row);
      });
      element.insertAdjacentHTML("afterbegin", parts[id]);
      while (element.children.length > MAX_ROWS) {
        element.removeChild(element.lastElementChild);
      }
    });
    body.setAttribute("data-updates", String(Number(body.getAttribute("data-updates") || 0) + 1));
  });

  source.addEventListener("gone", function () {
    status("gone", false);
    source.close();
  });
}());
