// The web chat: talks to /api/chat and /api/history of this origin.
//
// Text from the person or the bot is only ever set with textContent (never
// innerHTML): links and no-break spans are elements built around pieces of
// text. In the bot's texts, phone numbers that the knowledge file lists (from
// /api/info) become tel: links and http(s) URLs become links; any phone
// number, in either side's text, is kept on one line.
"use strict";

(() => {
  const root = document.documentElement;
  const app = document.getElementById("app");
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const typing = document.getElementById("typing");
  const sizeButton = document.getElementById("text-size");
  const maxLength = Number(document.getElementById("chat").dataset.maxLength) || 1000;

  const TEL_PAYLOAD = /^tel:[0-9+*#%]+$/i;
  const telOf = new Map(); // number as written -> tel: URI
  let textPattern = null; // set by buildPattern once /api/info has answered
  let menu = [];
  let busy = false;
  let composing = false;

  // ---- Text size: 「文字を大きく」, remembered in this browser -------------

  const SIZE_KEY = "soudan.textSize";

  function setLargeText(large) {
    root.classList.toggle("large-text", large);
    sizeButton.setAttribute("aria-pressed", large ? "true" : "false");
  }

  function storedLargeText() {
    try {
      return localStorage.getItem(SIZE_KEY) === "large";
    } catch (err) {
      return false; // storage blocked: the normal size
    }
  }

  setLargeText(storedLargeText());
  sizeButton.hidden = false;
  sizeButton.addEventListener("click", () => {
    const large = sizeButton.getAttribute("aria-pressed") !== "true";
    setLargeText(large);
    fitViewport();
    try {
      localStorage.setItem(SIZE_KEY, large ? "large" : "normal");
    } catch (err) {
      // Not remembered, but applied.
    }
  });

  // ---- The page fits the visible area, keyboard open or not ---------------
  //
  // Browsers that honour `interactive-widget=resizes-content` shrink the page
  // when the keyboard opens, and 100dvh follows. Others (iOS Safari) only
  // shrink the visual viewport: then the page is pinned to it, so the input
  // stays right above the keyboard. A pinch zoom (scale > 1) is left alone.
  const viewport = window.visualViewport;
  // Below this many lines of text (34 rem: 544 px, 680 px with large text),
  // the header keeps only the emergency call and the center's number.
  const SHORT_LINES = 34;

  function fitViewport() {
    const height = viewport ? viewport.height : window.innerHeight;
    const zoomed = viewport ? viewport.scale > 1.01 : false;
    const covered = viewport && !zoomed && viewport.height < window.innerHeight - 1;
    if (covered) {
      app.style.setProperty("--app-height", `${viewport.height}px`);
      app.style.setProperty("--app-top", `${viewport.offsetTop}px`);
    } else {
      app.style.removeProperty("--app-height");
      app.style.removeProperty("--app-top");
    }
    app.classList.toggle("pinned", Boolean(covered));
    const rem = parseFloat(getComputedStyle(root).fontSize) || 16;
    app.classList.toggle("short", !zoomed && height < SHORT_LINES * rem);
  }

  if (viewport) {
    viewport.addEventListener("resize", fitViewport);
    viewport.addEventListener("scroll", fitViewport);
  } else {
    window.addEventListener("resize", fitViewport);
  }
  fitViewport();

  // ---- Numbers and links in texts ------------------------------------------

  const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const DIGIT = "[0-9０-９]";
  const DASH = "[-‐－−ー]";
  // Phone-number shapes, whatever the number: international (+44 20 7946 0958),
  // with dashes or brackets (03-6162-..., (03)1234-...), #-numbers, 10–11 digits.
  const ANY_NUMBER = [
    `[+＋]${DIGIT}{1,3}(?:[ -]?\\(?${DIGIT}{1,4}\\)?){1,5}`,
    `(?:\\(${DIGIT}{2,5}\\) ?)?${DIGIT}{1,5}(?:${DASH}${DIGIT}{1,5})+`,
    `[#＃]${DIGIT}{3,4}`,
    `0${DIGIT}{9,10}`,
  ].join("|");
  // Only the characters a URL may hold: Japanese text right after it ends it.
  const URL_CHARS = "https?://[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'*+,;=%]+";

  // One pattern, tried left to right: a URL, a number of the knowledge file
  // (longest first), any other phone number.
  function buildPattern(known) {
    const parts = [`(?<url>${URL_CHARS})`];
    if (known.length) {
      // The number inside a line's name (みんなの人権…番) is not the police's to tap.
      parts.push(`(?<![0-9#-])(?<!人権)(?<known>${known.map(escapeRegExp).join("|")})(?![0-9-])`);
    }
    parts.push(`(?<![0-9０-９A-Za-z])(?<number>${ANY_NUMBER})(?![0-9０-９])`);
    return new RegExp(parts.join("|"), "g");
  }
  textPattern = buildPattern([]);

  // A URL found in text, without the punctuation that ends the sentence,
  // as a link when it is http(s); null otherwise.
  function urlLink(raw) {
    let url = raw.replace(/[.,;:!?'"]+$/, "");
    if (url.endsWith(")") && !url.includes("(")) url = url.slice(0, -1);
    let parsed;
    try {
      parsed = new URL(url);
    } catch (err) {
      return null;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    const link = document.createElement("a");
    link.href = parsed.href;
    link.className = "url";
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = url;
    return { link, rest: raw.slice(url.length) };
  }

  function noBreak(text) {
    const span = document.createElement("span");
    span.className = "nowrap";
    span.textContent = text;
    return span;
  }

  // Append `text` to `parent`: every phone number on one line and, when
  // `links`, known numbers as tel: links and http(s) URLs as links.
  function appendText(parent, text, links) {
    let last = 0;
    for (const match of text.matchAll(textPattern)) {
      const { url, known, number } = match.groups;
      const end = match.index + match[0].length;
      let node = null;
      let rest = "";
      if (url !== undefined) {
        const found = links ? urlLink(url) : null;
        if (!found) continue; // left as text
        node = found.link;
        rest = found.rest;
      } else if (known !== undefined && links) {
        node = document.createElement("a");
        node.href = telOf.get(known);
        node.className = "tel nowrap";
        node.textContent = known;
      } else {
        node = noBreak(known !== undefined ? known : number);
      }
      if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
      parent.append(node);
      if (rest) parent.append(document.createTextNode(rest));
      last = end;
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

  // ---- Messages ---------------------------------------------------------------

  function renderButtons(buttons) {
    const row = document.createElement("div");
    row.className = "quick-replies";
    for (const b of buttons) {
      if (!b || !b.title) continue;
      if (TEL_PAYLOAD.test(b.payload || "")) {
        const link = document.createElement("a");
        link.href = b.payload;
        link.className = "quick tel-button";
        link.textContent = b.title;
        row.append(link);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "quick";
        button.textContent = b.title;
        button.addEventListener("click", () => send(b.payload || b.title, b.title));
        row.append(button);
      }
    }
    return row;
  }

  // 「くわしく」: the rest of an answer, behind a native disclosure.
  function renderDetails(details) {
    const more = document.createElement("details");
    more.className = "more";
    const summary = document.createElement("summary");
    summary.textContent = "くわしく";
    const body = document.createElement("p");
    body.className = "text";
    appendText(body, details, true);
    more.append(summary, body);
    more.addEventListener("toggle", () => {
      // Opened at the bottom of the log: bring its first line into view.
      if (more.open && body.getBoundingClientRect().top > log.getBoundingClientRect().bottom - 40) {
        showFirstLine(summary);
      }
    });
    return more;
  }

  function addMessage(role, text, buttons, details) {
    const item = document.createElement("div");
    item.className = `message ${role}`;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = role === "user" ? "あなた：" : "アシスタント：";
    item.append(who);
    const body = document.createElement("p");
    body.className = "text";
    appendText(body, text || "", role === "bot");
    item.append(body);
    if (role === "bot" && typeof details === "string" && details.trim()) item.append(renderDetails(details));
    if (buttons && buttons.length) item.append(renderButtons(buttons));
    log.append(item);
    return item;
  }

  // Scroll the log so that `element` starts at its top (with a little of what
  // came before): a new answer is read from its first line.
  function showFirstLine(element) {
    const offset = element.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop = Math.max(0, log.scrollTop + offset - 12);
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
  }

  async function send(message, label, fromComposer) {
    if (busy) return;
    const text = message.trim() ? message : "";
    if (!text) {
      input.focus();
      return;
    }
    const question = addMessage("user", label || text, []);
    showFirstLine(question);
    setBusy(true);
    let reply;
    try {
      const resp = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(label ? { message: text, label } : { message: text }),
      });
      reply = await resp.json();
    } catch (err) {
      reply = null;
    }
    setBusy(false);
    const messages = reply && Array.isArray(reply.messages) ? reply.messages : [];
    let first = null;
    let last = null;
    if (messages.length === 0) {
      // Not even the gateway answered: the page's own contact line says where to call.
      const contact = document.getElementById("center-contact");
      const where = contact ? contact.textContent.replace(/\s+/g, " ").trim() : "";
      first = last = addMessage("bot", `通信できませんでした。時間をおいてもう一度お試しください。\n${where}`, []);
    }
    for (const m of messages) {
      last = addMessage("bot", m.text || "", m.buttons || [], m.details);
      first = first || last;
    }
    if (last && reply && typeof reply.topic === "string" && reply.topic) addFeedback(last, reply.topic);
    if (first) showFirstLine(first);
    // Typed messages: ready for the next one. A tapped quick reply keeps the
    // focus where it is (no keyboard popping up over the answer on a phone).
    if (fromComposer) input.focus({ preventScroll: true });
  }

  // 「役に立った」「役に立たなかった」 under an answer with a topic; once per answer.
  function addFeedback(item, topic) {
    const row = document.createElement("div");
    row.className = "feedback";
    const options = [["役に立った", true], ["役に立たなかった", false]];
    for (const [title, helpful] of options) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "feedback-button";
      button.textContent = title;
      button.addEventListener("click", () => sendFeedback(row, topic, helpful));
      row.append(button);
    }
    item.append(row);
  }

  async function sendFeedback(row, topic, helpful) {
    for (const b of row.querySelectorAll("button")) b.disabled = true;
    let text = "ご意見ありがとうございました。";
    try {
      const resp = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ topic, helpful }),
      });
      const body = await resp.json();
      if (resp.ok && typeof body.message === "string") text = body.message;
    } catch (err) {
      // The thanks is shown anyway: nothing for the person to do.
    }
    const thanks = document.createElement("p");
    thanks.className = "feedback-thanks";
    thanks.textContent = text;
    row.replaceChildren(thanks);
  }

  function submitInput() {
    const text = input.value;
    if (!text.trim() || busy) return;
    if (text.length > maxLength) {
      const notice = addMessage("bot", `メッセージが長すぎます（${maxLength}文字まで）。短くまとめて送ってください。`, []);
      showFirstLine(notice);
      return;
    }
    input.value = "";
    send(text, undefined, true);
  }

  // Enter sends, Shift+Enter is a new line, and Enter while the IME is
  // composing (choosing kanji) only confirms the conversion.
  input.addEventListener("compositionstart", () => { composing = true; });
  input.addEventListener("compositionend", () => { composing = false; });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    if (event.isComposing || event.keyCode === 229 || composing) return;
    if (event.shiftKey) return;
    event.preventDefault();
    submitInput();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });

  function welcome() {
    addMessage("bot", "こんにちは。電話やネットのトラブルについてご相談を受け付けています。困っていることを入力するか、下から選んでください。", menu);
  }

  async function start() {
    try {
      const info = await (await fetch("/api/info", { credentials: "same-origin" })).json();
      const numbers = [];
      for (const line of info.hotlines || []) {
        if (line.number && line.tel) {
          telOf.set(line.number, line.tel);
          numbers.push(line.number);
        }
      }
      numbers.sort((a, b) => b.length - a.length);
      textPattern = buildPattern(numbers);
      menu = info.menu || [];
    } catch (err) {
      textPattern = buildPattern([]);
    }
    let history = [];
    try {
      const resp = await fetch("/api/history", { credentials: "same-origin" });
      history = (await resp.json()).messages || [];
    } catch (err) {
      history = [];
    }
    if (history.length === 0) welcome();
    let answerStart = null;
    history.forEach((m, i) => {
      // Quick replies only under the last message: older choices are history.
      const buttons = i === history.length - 1 ? m.buttons : [];
      const bot = m.role !== "user";
      const item = addMessage(bot ? "bot" : "user", m.text, buttons, m.details);
      if (!bot) answerStart = null;
      else if (!answerStart) answerStart = item;
    });
    // Back on the page: the last answer, from its first line.
    if (answerStart) showFirstLine(answerStart);
    document.body.dataset.ready = "true";
  }

  start();
})();
