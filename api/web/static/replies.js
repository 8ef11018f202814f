// A kept reply (常用回复) chosen beside a note goes into the note, where it can still be edited;
// the choice is then cleared, so the reply is not added a second time on the server.
document.querySelectorAll("select[data-fills]").forEach((select) => {
  select.addEventListener("change", () => {
    const note = document.getElementById(select.dataset.fills);
    const text = select.value ? select.selectedOptions[0].textContent.trim() : "";
    if (!note || !text) return;
    const typed = note.value.trim();
    note.value = typed ? `${text}；${typed}` : text;
    select.value = "";
    note.focus();
  });
});
