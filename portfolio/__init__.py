"""The site package and the learner's side: people and their roles, portfolios, access rules."""
