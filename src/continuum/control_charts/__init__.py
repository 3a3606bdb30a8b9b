"""Control charts for a programme's outcomes (docs/clinical/reference.md §7.4–7.7).

Pure calculation (numpy and scipy only; no database, web, core or domain code):

- ``checks``: input checks that name the field, the value and the allowed range;
- ``weights``: Steiner's risk-adjusted CUSUM log-likelihood-ratio weights;
- ``cusum``: the risk-adjusted CUSUM charts (deterioration and improvement, both upper);
- ``vlad``: VLAD (expected minus observed deaths) and the O–E CUSUM;
- ``run_length``: in-control average run length by a Markov chain and by simulation, and
  the control limit h for a wanted number of false alarms per year;
- ``observed_expected``: observed vs expected deaths against RESP / SAVE class survival.

Every result is a small frozen dataclass that carries its inputs, the formula in words,
its units and its source, so a page or a command can explain the number it shows.
"""
