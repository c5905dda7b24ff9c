// The letter's print button.
document.getElementById("print-button").addEventListener("click", function () { window.print(); });
