// The page's only script, and optional: chapter and transcript links seek the episode's player
// (without JavaScript they open the MP3 at that time), the current chapter is marked while it
// plays, the feed URL gets a Copy button, and an episode page honours #t=SECONDS.
(function () {
  "use strict";

  function seek(player, seconds, play) {
    player.currentTime = seconds;
    if (play) {
      var playing = player.play();
      if (playing && playing.catch) playing.catch(function () {});
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-seek]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var player = document.getElementById(link.getAttribute("data-player"));
    if (!player) return;
    event.preventDefault();
    seek(player, parseFloat(link.getAttribute("data-seek")), true);
  });

  function markChapter(player) {
    var list = document.querySelector('.chapters ol[data-player="' + player.id + '"]');
    if (!list) return;
    var links = list.querySelectorAll("a[data-seek]");
    var current = null;
    for (var i = 0; i < links.length; i++) {
      if (parseFloat(links[i].getAttribute("data-seek")) <= player.currentTime + 0.05) current = links[i];
    }
    for (var j = 0; j < links.length; j++) {
      if (links[j] === current) links[j].setAttribute("aria-current", "true");
      else links[j].removeAttribute("aria-current");
    }
  }

  var players = document.querySelectorAll("audio");
  for (var k = 0; k < players.length; k++) {
    players[k].addEventListener("timeupdate", function (event) { markChapter(event.target); });
  }

  var hash = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
  if (hash && players.length) seek(players[0], parseFloat(hash[1]), false);

  var buttons = document.querySelectorAll("button[data-copy]");
  for (var b = 0; b < buttons.length; b++) {
    (function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      button.hidden = false;
      input.addEventListener("focus", function () { input.select(); });
      button.addEventListener("click", function () {
        input.select();
        var done = function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () {});
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    })(buttons[b]);
  }
})();
