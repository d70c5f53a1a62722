"""Pure rule engine: rule and question models, loader, evaluation, amounts, deadlines, parsing."""
