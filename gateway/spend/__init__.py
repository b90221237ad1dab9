"""Spend: what each request cost (:mod:`.money`), the calendar periods budgets hold over
(:mod:`.periods`), the spend table every replica adds to (:mod:`.ledger`) and the reports
read from it (:mod:`.reports`)."""
