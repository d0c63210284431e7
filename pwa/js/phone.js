// A mobile number as typed ("+358 40 123 4567") in the form the server takes (E.164, as
// server/rules/escalation.py PHONE_NUMBER): spaces, dashes and brackets go; null when it is not one.
export function phoneNumber(typed) {
  const number = typed.replace(/[\s\-().]/g, "");
  return /^\+[1-9][0-9]{6,14}$/.test(number) ? number : null;
}
