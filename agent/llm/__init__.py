"""Talking to Claude: the client and its retries, budgets, token accounting, prompts and tools.

Nothing here decides what may happen to the CRM. The model only ever *proposes*
through tools; :mod:`agent.planner.claude` turns each proposal into a
:class:`~agent.models.ProposedAction` and hands it to the run's gate
(:class:`agent.run_gate.RunGate`), where the policy and the executor decide.

- :mod:`~agent.llm.client`: the anthropic client, bounded retries on 429/5xx/529.
- :mod:`~agent.llm.budget`: calls, tokens and wall time allowed per run.
- :mod:`~agent.llm.accounting`: tokens and a cost estimate per run.
- :mod:`~agent.llm.prompt`: the system prompt and the delimited CRM data blocks.
- :mod:`~agent.llm.tools`: the tool schemas the model may call.
"""
