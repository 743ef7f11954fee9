// Progressive enhancement only: the portal works without this file.
// When an htmx request fails (server error, network down), say so instead of silently doing nothing.
document.addEventListener("htmx:responseError", showProblem);
document.addEventListener("htmx:sendError", showProblem);

function showProblem() {
  var banner = document.getElementById("connection-problem");
  if (banner) banner.hidden = false;
}
