// The web chat: sends what the contact types or presses to /api/messages and shows the bot's messages.
// Everything the bot says comes from the server (the same handlers as on Telegram); this file only draws it.
"use strict";

(function () {
  const CHROME = {
    "zh-Hans": {
      title: "奖励政策小助手", language: "语言", commands: "命令", results: "查看结果", profile: "修改回答",
      restart: "重新开始", forget: "删除我的信息", answer: "您的回答", send: "发送", log: "对话",
      typeHere: "输入回答,或点上面的按钮", tooFast: "操作太快了,请 {s} 秒后再试。",
      offline: "连不上服务器,请稍后再试。", download: "下载",
    },
    "zh-Hant": {
      title: "獎勵政策小助手", language: "語言", commands: "命令", results: "查看結果", profile: "修改回答",
      restart: "重新開始", forget: "刪除我的資訊", answer: "您的回答", send: "發送", log: "對話",
      typeHere: "輸入回答,或點上面的按鈕", tooFast: "操作太快了,請 {s} 秒後再試。",
      offline: "連不上伺服器,請稍後再試。", download: "下載",
    },
    en: {
      title: "Incentive finder", language: "Language", commands: "Commands", results: "Results",
      profile: "Change an answer", restart: "Start over", forget: "Delete my data", answer: "Your answer",
      send: "Send", log: "Conversation", typeHere: "Type an answer, or press a button above",
      tooFast: "Too fast; try again in {s} s.", offline: "Cannot reach the server; try again shortly.",
      download: "Download",
    },
  };
  const TEXT_TYPES = new Set(["money", "number", "rate", "region"]);
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const input = $("text");
  const state = { cursor: 0, seen: new Set(), busy: false, queue: Promise.resolve(), language: pickLanguage() };

  function pickLanguage() {
    const kept = localStorage.getItem("language");
    if (kept && CHROME[kept]) return kept;
    const browser = (navigator.language || "zh").toLowerCase();
    if (!browser.startsWith("zh")) return "en";
    return /(tw|hk|mo|hant)/.test(browser) ? "zh-Hant" : "zh-Hans";
  }

  function label(language) {
    const words = CHROME[language];
    document.documentElement.lang = language;
    document.title = words.title;
    $("title").textContent = words.title;
    $("language-label").textContent = words.language;
    $("commands").setAttribute("aria-label", words.commands);
    $("cmd-results").textContent = words.results;
    $("cmd-profile").textContent = words.profile;
    $("cmd-restart").textContent = words.restart;
    $("cmd-forget").textContent = words.forget;
    $("text-label").textContent = words.answer;
    $("send").textContent = words.send;
    log.setAttribute("aria-label", words.log);
    input.placeholder = words.typeHere;
    $("language").value = language;
  }

  function say(text, problem) {
    const status = $("status");
    status.textContent = text || "";
    status.classList.toggle("problem", Boolean(problem));
  }

  async function call(method, path, body) {
    const options = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (ignored) { data = null; }
    return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
  }

  // With a session cookie missing or refused, a new session is made and the call tried once more. Too fast: said
  // so, and tried again once the server allows, so nothing the contact did is lost.
  async function withSession(method, path, body) {
    let answer = await call(method, path, body);
    if (answer.status === 401) {
      await call("POST", "/api/sessions");
      answer = await call(method, path, body);
    }
    for (let tries = 0; answer.status === 429 && tries < 5; tries += 1) {
      refused(answer);
      await pause(Number(answer.retryAfter || 1));
      answer = await call(method, path, body);
    }
    return answer;
  }

  function refused(answer) {
    const words = CHROME[state.language];
    if (answer.status === 429) say(words.tooFast.replace("{s}", answer.retryAfter || "1"), true);
    else say((answer.data && answer.data.error) || words.offline, true);
  }

  // Official notices are written in Telegram's HTML. Its few tags are drawn (bold, italics, underline, strike,
  // code, quotes, and links to web, mail or phone addresses, which open apart from the chat); any other markup is
  // shown as its text, and scripts and styles not at all. The markup is parsed into an inert document and copied
  // out node by node, so nothing in it ever runs.
  const TAGS = {
    b: "strong", strong: "strong", i: "em", em: "em", u: "u", ins: "u", s: "s", strike: "s", del: "s",
    code: "code", pre: "pre", blockquote: "blockquote",
  };
  const LINK = /^(https?:|mailto:|tel:)/i;
  const SKIPPED = new Set(["script", "style", "template", "noscript"]);

  function parsed(message) {
    return new DOMParser().parseFromString(message.text, "text/html").body;
  }

  function plain(message) {
    return message.html ? parsed(message).textContent || "" : message.text;
  }

  function rich(message) {
    const fragment = document.createDocumentFragment();
    if (message.html) copyMarkup(fragment, parsed(message));
    else fragment.append(message.text);
    return fragment;
  }

  function copyMarkup(target, source) {
    for (const node of source.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        target.append(node.data);
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE || SKIPPED.has(node.localName)) continue;
      let element = null;
      if (node.localName === "a") {
        const href = (node.getAttribute("href") || "").trim();
        if (LINK.test(href)) {
          element = document.createElement("a");
          element.href = href;
          element.target = "_blank";
          element.rel = "noopener noreferrer";
        }
      } else if (TAGS[node.localName]) {
        element = document.createElement(TAGS[node.localName]);
      }
      if (element) {
        copyMarkup(element, node);
        target.append(element);
      } else {
        copyMarkup(target, node);
      }
    }
  }

  function draw(item, message) {
    item.replaceChildren();
    item.dataset.messageId = item.dataset.messageId || String(message.id);
    const text = document.createElement("div");
    text.className = "text";
    text.append(rich(message));
    item.append(text);
    if (message.file) {
      const link = document.createElement("a");
      link.className = "file";
      link.href = message.file.url;
      link.download = message.file.name;
      link.textContent = `${CHROME[state.language].download} ${message.file.name}`;
      item.append(link);
    }
    if (message.buttons.length) {
      const group = document.createElement("div");
      group.className = "buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", plain(message).split("\n").slice(-1)[0].slice(0, 80));
      const chosen = new Set((message.question && message.question.chosen) || []);
      for (const row of message.buttons) {
        const line = document.createElement("div");
        line.className = "row";
        for (const button of row) {
          const element = document.createElement("button");
          element.type = "button";
          element.textContent = button.label;
          element.dataset.data = button.data;
          const [kind, , value] = button.data.split(":");
          if (kind === "t") element.setAttribute("aria-pressed", chosen.has(value) ? "true" : "false");
          line.append(element);
        }
        group.append(line);
      }
      item.append(group);
    }
    item.question = message.question || null;
  }

  // The question's first line says how far the interview is, in the chat's language ("问题 3 / 约 6").
  function progress(message) {
    const [number, total] = message.question.progress;
    $("progress").hidden = false;
    $("progress-label").textContent = plain(message).split("\n")[0];
    $("progress-bar").max = total;
    $("progress-bar").value = number;
  }

  // Draws messages not seen yet (an edit replaces the message it edits); returns those drawn.
  function show(messages) {
    const drawn = [];
    for (const message of messages) {
      if (state.seen.has(message.id)) continue;
      state.seen.add(message.id);
      state.cursor = Math.max(state.cursor, message.id);
      if (message.notice) say(message.notice);
      if (!message.text) continue;
      const edited = message.replaces && log.querySelector(`li[data-message-id="${message.replaces}"]`);
      const item = edited || document.createElement("li");
      if (!edited) {
        item.className = "bot";
        item.tabIndex = -1;
        log.append(item);
      }
      draw(item, message);
      drawn.push({ item, message });
      if (message.question) progress(message);
    }
    return drawn;
  }

  function pause(seconds) {
    return new Promise((done) => setTimeout(done, 1000 * seconds));
  }

  function mine(text) {
    const item = document.createElement("li");
    item.className = "me";
    item.textContent = text;
    log.append(item);
  }

  // Where the keyboard goes next: the pressed toggle again, the newest question's first choice or the text box
  // for a typed answer, else the newest message, so a screen reader reads it and Tab reaches its buttons.
  function focusAfter(pressedData) {
    const items = log.querySelectorAll("li.bot");
    const last = items[items.length - 1];
    if (!last) return;
    if (pressedData) {
      const again = log.querySelector(`button[data-data="${CSS.escape(pressedData)}"]`);
      if (again) { again.focus(); return; }
    }
    const question = last.question;
    if (question && TEXT_TYPES.has(question.type)) { input.focus(); return; }
    const first = question && last.querySelector("button");
    if (first) first.focus();
    else last.focus();
    last.scrollIntoView({ block: "nearest" });
  }

  // Requests go one after another, in the order the contact made them: a press while a reply is on its way waits
  // for it rather than being lost.
  function send(body, echo, keepFocusOn) {
    state.queue = state.queue.then(() => post(body, echo, keepFocusOn));
    return state.queue;
  }

  async function post(body, echo, keepFocusOn) {
    state.busy = true;
    log.setAttribute("aria-busy", "true");
    if (echo) mine(echo);
    say("");
    try {
      const answer = await withSession("POST", "/api/messages", { ...body, after: state.cursor });
      if (answer.status === 200) {
        say("");
        show(answer.data.messages);
        focusAfter(keepFocusOn);
      } else {
        refused(answer);
      }
    } catch (error) {
      say(CHROME[state.language].offline, true);
    } finally {
      state.busy = false;
      log.removeAttribute("aria-busy");
    }
  }

  function press(element) {
    const item = element.closest("li");
    const data = element.dataset.data;
    const messageId = item ? Number(item.dataset.messageId) : undefined;
    const toggle = data.startsWith("t:");
    send({ button: data, message_id: messageId }, toggle ? null : element.textContent, toggle ? data : null);
  }

  // Messages that come later (notices, replies the worker delivered) arrive through a long poll.
  async function listen() {
    for (;;) {
      try {
        const answer = await call("GET", `/api/messages?after=${state.cursor}&wait=25`);
        if (answer.status === 200) show(answer.data.messages);
        else await pause(Number(answer.retryAfter || 5));
      } catch (error) {
        await pause(5);
      }
    }
  }

  async function start() {
    label(state.language);
    // The conversation so far (what the outbox still keeps), else a first /start in the browser's language.
    let earlier = [];
    try {
      for (;;) {
        const answer = await withSession("GET", `/api/messages?after=${state.cursor}`);
        if (answer.status !== 200) { refused(answer); break; }
        say("");
        earlier = earlier.concat(show(answer.data.messages));
        if (answer.data.messages.length < 100) break;
      }
    } catch (error) {
      say(CHROME[state.language].offline, true);
    }
    if (earlier.length) focusAfter(null);
    else await send({ command: "start" }, null, null);
    listen();
  }

  log.addEventListener("click", (event) => {
    const element = event.target.closest("button[data-data]");
    if (element) press(element);
  });
  $("commands").addEventListener("click", (event) => {
    const element = event.target.closest("button");
    if (!element) return;
    if (element.dataset.command) send({ command: element.dataset.command }, `/${element.dataset.command}`, null);
    else send({ button: element.dataset.button }, element.textContent, null);
  });
  $("language").addEventListener("change", (event) => {
    state.language = event.target.value;
    localStorage.setItem("language", state.language);
    label(state.language);
    send({ button: `l:${state.language}` }, null, null);
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text, null);
  });

  start();
})();
