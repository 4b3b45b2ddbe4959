// The answer form's live SMS count, as the server counts it (console/answers/queries.py
// sms_segments, over channels/sms/text.py): the text with the clinic profile's values in place
// of its placeholders; GSM-7 segments of 160 characters, 153 each when there are several (^{}\[~]|€
// take two); once one character is outside GSM-7, UCS-2 segments of 70, 67 when several.
// Served as a file: the console's CSP allows no inline script.
(function () {
  var text = document.getElementById("answer-text");
  var count = document.getElementById("answer-count");
  if (!text || !count) return;
  var MAX_LENGTH = Number(text.dataset.maxLength);  // the server's limit (queries.MAX_LENGTH)
  var values = JSON.parse(text.dataset.values || "{}");
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€\f";

  function filled(raw) {
    return raw.replace(/\{([^\n{}]+?)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function segments(sent) {
    var septets = 0;
    var outside = null;
    for (var ch of sent) {
      if (BASIC.indexOf(ch) >= 0) septets += 1;
      else if (EXTENSION.indexOf(ch) >= 0) septets += 2;
      else { outside = ch; break; }
    }
    if (!sent) return { count: 0, outside: null };
    if (outside === null) return { count: septets <= 160 ? 1 : Math.ceil(septets / 153), outside: null };
    var units = sent.length;  // UTF-16 code units, as UCS-2 counts them (an emoji is two)
    return { count: units <= 70 ? 1 : Math.ceil(units / 67), outside: outside };
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function describe() {
    var raw = text.value.replace(/\r\n?/g, "\n").trim();  // as the server stores it
    if (!raw) { count.textContent = "Empty: write the new wording."; return; }
    var length = Array.from(raw).length;
    var sms = segments(filled(raw));
    var words = plural(sms.count, "SMS segment") + " with the profile's values filled in · " +
                length.toLocaleString("en-US") + " of at most " +
                MAX_LENGTH.toLocaleString("en-US") + " characters";
    if (length > MAX_LENGTH) words += ": " + (length - MAX_LENGTH).toLocaleString("en-US") + " too many";
    if (sms.outside !== null) {
      words += " · “" + sms.outside + "” is outside the SMS alphabet, so a segment holds 70 characters (67 when there are several)";
    }
    count.textContent = words + ".";
  }

  text.addEventListener("input", describe);
  describe();
})();
