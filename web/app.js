"use strict";
// Minimal placeholder: connects and shows the state. The real page replaces it.
(function () {
  var status = document.getElementById("status");
  var socket = io({ auth: { name: "guest" } });
  socket.on("connect", function () { status.textContent = "connected"; });
  socket.on("disconnect", function () { status.textContent = "offline"; });
})();
