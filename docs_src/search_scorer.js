// Sphinx's search ranking (html_search_scorer), with one change: an API entry whose name is the word searched for
// (`adam`, `fit` in `Learner.fit`) scores above any page that mentions it.
var Scorer = {
  objNameMatch: 50,               // Sphinx: 11, below a page whose title and text hold the words
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
