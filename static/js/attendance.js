// Attendance page: show the reason field only where 请假 is chosen without leave
// approved before the start; disable the submit button so a double click sends one POST.
//
// Focus moves into a revealed reason field only after a tap or a click: a keyboard user
// choosing 请假 with the arrow keys stays in the radio group (the next arrow key must move
// between statuses, not the text cursor) and reaches the field with Tab.
var lastPointer = 0;
var attendanceForm = document.getElementById("attendance-form");
var reasonText = (attendanceForm && attendanceForm.dataset.reasonLabel) || "";
document.addEventListener("pointerdown", function () { lastPointer = Date.now(); }, true);
document.querySelectorAll(".attendance-row").forEach(function (row) {
  var reason = row.querySelector(".reason");
  var approved = row.dataset.leaveOk === "1";
  if (reason && !reason.id) {
    // A visible label for the field, not only a placeholder (WCAG 3.3.2).
    reason.id = "reason-" + (reason.name || "").replace(/^reason-/, "");
    var label = document.createElement("label");
    label.className = "form-label small mb-0 mt-1 reason-label";
    label.htmlFor = reason.id;
    var name = row.querySelector("strong");
    label.textContent = reasonText + (name ? "（" + name.textContent + "）" : "");
    label.classList.toggle("d-none", reason.classList.contains("d-none"));
    reason.parentNode.insertBefore(label, reason);
  }
  row.addEventListener("change", function (e) {
    if (!reason || e.target.type !== "radio") return;
    var show = e.target.value === "请假" && !approved;
    reason.classList.toggle("d-none", !show);
    var label = row.querySelector(".reason-label");
    if (label) label.classList.toggle("d-none", !show);
    if (show && Date.now() - lastPointer < 1000) reason.focus();
  });
});
// "其余未签到的标记为…": set every row without a check-in in one step (nothing is saved
// until the secretary presses 保存考勤).
var restApply = document.getElementById("rest-apply");
if (restApply) {
  restApply.addEventListener("click", function (e) {
    e.preventDefault();
    var value = document.getElementById("rest-status").value;
    document.querySelectorAll('.attendance-row[data-unrecorded="1"]').forEach(function (row) {
      row.querySelectorAll("input[type=radio]").forEach(function (radio) {
        if (radio.value === value) {
          radio.checked = true;
          radio.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    });
  });
}
if (attendanceForm) {
  attendanceForm.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.id === "rest-apply") return;
    attendanceForm.querySelector("button[type=submit]:not(#rest-apply)").disabled = true;
  });
}
