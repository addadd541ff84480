// The participant-visible words of questionnaires and feedback, in every language the
// page speaks. The page's language is the <html lang> attribute; English where a
// language or a word is missing.

const STRINGS = {
  en: {
    questions: "A few questions",
    required: "(required)",
    continue: "Continue",
    sending: "Sending…",
    missing: "Please answer this question.",
    missingSummary: "Some required questions are not answered yet.",
    tooLong: "This answer is too long.",
    notMoved: "Not answered yet: move the slider.",
    refused: "This answer was not accepted. Please check it.",
    failed: "Your answers could not be sent. Please try again.",
    progress: (n, total) => `Questionnaire ${n} of ${total}`,
    good: "Good answer",
    bad: "Bad answer",
    tellMore: "Tell us more (optional)",
    sendComment: "Send",
    thanks: "Thank you for your feedback.",
    feedbackFailed: "Your feedback could not be sent.",
  },
  fr: {
    questions: "Quelques questions",
    required: "(obligatoire)",
    continue: "Continuer",
    sending: "Envoi…",
    missing: "Merci de répondre à cette question.",
    missingSummary: "Certaines questions obligatoires n'ont pas encore de réponse.",
    tooLong: "Cette réponse est trop longue.",
    notMoved: "Pas encore de réponse : déplacez le curseur.",
    refused: "Cette réponse n'a pas été acceptée. Merci de la vérifier.",
    failed: "Vos réponses n'ont pas pu être envoyées. Merci de réessayer.",
    progress: (n, total) => `Questionnaire ${n} sur ${total}`,
    good: "Bonne réponse",
    bad: "Mauvaise réponse",
    tellMore: "Dites-nous en plus (facultatif)",
    sendComment: "Envoyer",
    thanks: "Merci pour votre avis.",
    feedbackFailed: "Votre avis n'a pas pu être envoyé.",
  },
};

/** The page's language, as the questionnaires are asked for in it. */
export function pageLocale() {
  const lang = (document.documentElement.lang || "en").toLowerCase().split("-")[0];
  return STRINGS[lang] ? lang : "en";
}

/** The word `key` in the page's language; a function's result when given `args`. */
export function say(key, ...args) {
  const word = STRINGS[pageLocale()][key] ?? STRINGS.en[key];
  return typeof word === "function" ? word(...args) : word;
}
