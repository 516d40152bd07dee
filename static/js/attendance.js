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
var form = document.getElementById("attendance-form");
if (form) {
  form.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.id === "rest-apply") return;
    form.querySelector("button[type=submit]:not(#rest-apply)").disabled = true;
  });
}
