// Questionnaires before and after the chat (`[[questionnaires]]` in the study file).
//
// The contract the page relies on (`questionnaireStep` in page.js):
//   runQuestionnaire(when, container) -> Promise<void>
//   `when` is "before" (after consent, before the chat) or "after" (after the
//   chat, before the debrief); `container` is an empty, visible element the
//   questionnaire may fill. The promise resolves once the participant has
//   submitted it, at once if the study has no questionnaire for that moment,
//   and at once if it was already submitted (a participant who reloads or
//   comes back). The page's words come from `t` in i18n.js.
//
// This placeholder has no questionnaire for any moment; the questionnaire
// component replaces its body.

export async function runQuestionnaire(when, container) {
  void when;
  void container;
}
