// Attendance page: show the reason field only where 请假 is chosen without leave
// approved before the start; disable the submit button so a double click sends one POST.
document.querySelectorAll(".attendance-row").forEach(function (row) {
  var reason = row.querySelector(".reason");
  var approved = row.dataset.leaveOk === "1";
  row.addEventListener("change", function (e) {
    if (!reason || e.target.type !== "radio") return;
    reason.classList.toggle("d-none", !(e.target.value === "请假" && !approved));
    if (!reason.classList.contains("d-none")) reason.focus();
  });
});
var form = document.getElementById("attendance-form");
if (form) {
  form.addEventListener("submit", function () {
    form.querySelector("button[type=submit]").disabled = true;
  });
}
