// The web chat: talks to /api/chat and /api/history of this origin.
// Text from the person or the bot is only ever set with textContent (never
// innerHTML); phone numbers become tel: links only for the numbers that the
// knowledge file lists (from /api/info).
"use strict";

(() => {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const typing = document.getElementById("typing");
  const maxLength = Number(document.getElementById("chat").dataset.maxLength) || 1000;

  const TEL_PAYLOAD = /^tel:[0-9+*#%]+$/i;
  let numberPattern = null; // RegExp of the known numbers, longest first
  const telOf = new Map(); // number as written -> tel: URI
  let menu = [];
  let busy = false;
  let composing = false;

  const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  // Append `text` to `parent`, with the known phone numbers as tel: links.
  function appendLinkedText(parent, text) {
    if (!numberPattern) {
      parent.append(document.createTextNode(text));
      return;
    }
    let last = 0;
    for (const match of text.matchAll(numberPattern)) {
      if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = telOf.get(match[0]);
      link.className = "tel";
      link.textContent = match[0];
      parent.append(link);
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

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

  function addMessage(role, text, buttons) {
    const item = document.createElement("div");
    item.className = `message ${role}`;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = role === "user" ? "あなた：" : "アシスタント：";
    item.append(who);
    const body = document.createElement("p");
    body.className = "text";
    if (role === "bot") appendLinkedText(body, text || "");
    else body.textContent = text || "";
    item.append(body);
    if (buttons && buttons.length) item.append(renderButtons(buttons));
    log.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
  }

  async function send(message, label) {
    if (busy) return;
    const text = message.trim() ? message : "";
    if (!text) {
      input.focus();
      return;
    }
    addMessage("user", label || text, []);
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
    if (messages.length === 0) {
      // Not even the gateway answered: the page's own contact line says where to call.
      const contact = document.getElementById("center-contact");
      addMessage("bot", `通信できませんでした。時間をおいてもう一度お試しください。\n${contact ? contact.textContent.replace(/\s+/g, " ").trim() : ""}`, []);
    }
    let last = null;
    for (const m of messages) last = addMessage("bot", m.text || "", m.buttons || []);
    if (last && reply && typeof reply.topic === "string" && reply.topic) addFeedback(last, reply.topic);
    input.focus();
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
      addMessage("bot", `メッセージが長すぎます（${maxLength}文字まで）。短くまとめて送ってください。`, []);
      return;
    }
    input.value = "";
    send(text);
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
      if (numbers.length) {
        numberPattern = new RegExp(`(?<![0-9#-])(?:${numbers.map(escapeRegExp).join("|")})(?![0-9-])`, "g");
      }
      menu = info.menu || [];
    } catch (err) {
      numberPattern = null;
    }
    let history = [];
    try {
      const resp = await fetch("/api/history", { credentials: "same-origin" });
      history = (await resp.json()).messages || [];
    } catch (err) {
      history = [];
    }
    if (history.length === 0) welcome();
    history.forEach((m, i) => {
      // Quick replies only under the last message: older choices are history.
      const buttons = i === history.length - 1 ? m.buttons : [];
      addMessage(m.role === "user" ? "user" : "bot", m.text, buttons);
    });
    document.body.dataset.ready = "true";
  }

  start();
})();
