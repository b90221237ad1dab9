"""Evaluation suites: answers from two model versions, scored by rules, references and an
LLM judge, compared with statistics that say when a challenger is really better."""
