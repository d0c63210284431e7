/* Exit Now status banner for {{ site }}. Embed with:
 *   <script src="https://<exit-now-host>/embed/{{ site }}/banner.js" async></script>
 * Shows the out-of-service notice at the top of the page while the service is closed, then
 * for a while that it is open again (and why it closed, when it was no real danger), and
 * nothing otherwise. It lives in a shadow root, so it neither takes the host page's styles
 * nor changes them, and it defines no globals. Under a Content-Security-Policy it needs only
 * the Exit Now host in script-src (this file) and in connect-src (status.json, polled):
 *   script-src 'self' https://<exit-now-host>; connect-src 'self' https://<exit-now-host>
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var notice = {{ document_json }};
  var statusUrl = new URL("../../status/{{ site }}.json", script.src).href;
  var seconds = Number(script.getAttribute("data-interval")) || 30;
  var host = null;

  function language() {
    var wanted = [document.documentElement.lang, navigator.language, notice.languages[0]];
    for (var i = 0; i < wanted.length; i++) {
      var code = (wanted[i] || "").slice(0, 2).toLowerCase();
      if (notice.notice[code]) return code;
    }
    return notice.languages[0];
  }

  function show() {
    if (notice.state !== "closed" && notice.state !== "restored") {
      if (host) host.remove();
      host = null;
      return;
    }
    if (!host) {
      host = document.createElement("div");
      host.setAttribute("data-exitnow-banner", "{{ site }}");
      var root = host.attachShadow({ mode: "open" });
      root.innerHTML = "<section role='region'><h2></h2><p></p></section>";
      document.body.insertBefore(host, document.body.firstChild);
    }
    var lang = language();
    var text = notice.notice[lang];
    var section = host.shadowRoot.querySelector("section");
    paint(host, section, notice.state);
    section.setAttribute("lang", lang);
    section.setAttribute("aria-label", text.headline);
    section.querySelector("h2").textContent = text.headline;
    section.querySelector("p").textContent = text.lines.join(" ");
  }

  // Styles are set through the CSSOM, never as a <style> element or a style attribute: a shop
  // whose Content-Security-Policy has no 'unsafe-inline' in style-src blocks those (and the
  // banner showed unstyled), but not this. The host element is reset, so that the page's own
  // rules for div do not reach it.
  var LOOK = {
    closed: { background: "#fff3cd", border: "#7a4b00" },
    restored: { background: "#e8f5e9", border: "#1b5e20" }
  };

  function styled(element, rules) {
    for (var name in rules) element.style.setProperty(name, rules[name], "important");
  }

  function paint(host, section, state) {
    styled(host, { all: "initial", display: "block" });
    styled(section, {
      display: "block",
      font: "16px/1.45 system-ui, sans-serif",
      padding: "12px 16px",
      "border-bottom": "4px solid " + LOOK[state].border,
      background: LOOK[state].background,
      color: "#111"
    });
    styled(section.querySelector("h2"), {
      display: "block", "font-size": "18px", "font-weight": "bold", margin: "0 0 4px"
    });
    styled(section.querySelector("p"), { display: "block", margin: "0" });
  }

  function refresh() {
    fetch(statusUrl, { cache: "no-cache" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (latest) {
        if (latest && (latest.version !== notice.version || latest.words_day !== notice.words_day)) {
          notice = latest;
          show();
        }
      })
      .catch(function () { /* keep showing what we know; try again later */ });
  }

  function start() {
    show();
    setInterval(refresh, seconds * 1000);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
