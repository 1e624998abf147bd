"""Research workbench: trial designs, cure-fraction simulation and long-term remission.

The binding contract is ``shared/reference/research-contract.md``. Each module holds one
method and names it in every result (``"method"``):

* :mod:`.single_arm`      exact single-stage and Simon (1989) two-stage designs on a rate
* :mod:`.survival_design` two-arm log-rank sample size (Schoenfeld, Freedman), as rpact
* :mod:`.simulate`        two-arm trials with a cure fraction, vectorised over replicates
* :mod:`.sweep`           operating characteristics over a design grid on dask.distributed
* :mod:`.cure`            mixture cure model by maximum likelihood
* :mod:`.inputs`          the pydantic input models (``extra="forbid"``)
"""
