// The workplace's contacts on the witness form (portfolio/witness_form.html): a contact's
// button fills the witness's name, job title and e-mail address in place. Without the script
// the button posts the form, which comes back filled with what was typed kept.
(function () {
  const status = document.getElementById("witness-contact-status");
  const fields = { name: "id_witness_name", jobTitle: "id_witness_job_title", email: "id_witness_email" };
  for (const button of document.querySelectorAll("[data-witness-contact]")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      for (const [key, id] of Object.entries(fields)) {
        const input = document.getElementById(id);
        if (input) input.value = button.dataset[key] || "";
      }
      if (status) status.textContent = `The witness's details are filled from ${button.dataset.name}.`;
      document.getElementById(fields.name)?.focus();
    });
  }
})();
