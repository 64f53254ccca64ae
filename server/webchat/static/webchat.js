// The CRM's web chat page: starts a visitor (its token kept in this origin's localStorage, so a
// returning visitor continues their conversation), sends messages, and polls for the replies.
(function () {
  "use strict";
  var root = document.getElementById("webchat");
  if (!root) return;
  var key = root.dataset.key;
  var storeKey = "crm-webchat-" + key;
  var list = document.getElementById("messages");
  var status = document.getElementById("status");
  var input = document.getElementById("text");
  var nameInput = document.getElementById("name");
  var button = document.getElementById("send");
  var shown = {};

  function token() { return window.localStorage.getItem(storeKey) || ""; }

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch("/chat/" + encodeURIComponent(key) + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { var error = new Error((data.error && data.error.message) || response.statusText); error.status = response.status; throw error; }
        return data;
      });
    });
  }

  function show(message) {
    if (shown[message.id]) return;
    shown[message.id] = true;
    var item = document.createElement("li");
    item.className = "message " + (message.direction === "in" ? "mine" : "theirs");
    item.style.margin = ".35rem 0";
    item.style.textAlign = message.direction === "in" ? "right" : "left";
    var who = document.createElement("div");
    who.style.fontSize = ".8rem";
    who.style.color = "#5b6472";
    who.textContent = message.direction === "in" ? root.dataset.you : (message.author || root.dataset.shop);
    var text = document.createElement("div");
    text.className = "text";
    text.textContent = message.text;  // text, never HTML
    item.appendChild(who);
    item.appendChild(text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function refresh() {
    if (!token()) return Promise.resolve();
    return call("GET", "/messages").then(function (data) {
      data.messages.forEach(show);
    }).catch(function (error) {
      if (error.status === 404) window.localStorage.removeItem(storeKey);  // the chat was switched off or reset
    });
  }

  function ensureVisitor() {
    if (token()) return Promise.resolve();
    return call("POST", "/start", { name: nameInput.value }).then(function (data) {
      window.localStorage.setItem(storeKey, data.token);
    });
  }

  function send() {
    var text = input.value.trim();
    if (!text) return;
    var clientId = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() : String(Date.now()) + Math.random();
    button.disabled = true;
    status.textContent = root.dataset.sending;
    ensureVisitor().then(function () {
      return call("POST", "/messages", { text: text, clientId: clientId });
    }).then(function (data) {
      show(data.message);
      input.value = "";
      status.textContent = "";
    }).catch(function (error) {
      status.textContent = error.status ? error.message : root.dataset.failed;
    }).then(function () { button.disabled = false; });
  }

  button.addEventListener("click", send);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
  });
  refresh();
  window.setInterval(refresh, 3000);
})();
