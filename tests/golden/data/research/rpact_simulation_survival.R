# Golden values for `cartwatch simulate survival` without cure: rpact getSimulationSurvival
# (kMax = 1, event-driven cut, log-rank, one-sided in favour of treatment, i.e.
# directionUpper = FALSE for a hazard ratio below 1). Run from this folder:
#   Rscript rpact_simulation_survival.R   (writes rpact_simulation_survival.json beside it)
library(rpact)
iterations <- 20000
designs <- list(
  list(name = "contract example, no cure", hr = 0.6, median = 12, n = 217, events = 161,
       alloc = 1, dropout = 0, accrual = 24, alpha = 0.025),
  list(name = "dropout 10% by 12 months", hr = 0.6, median = 12, n = 217, events = 161,
       alloc = 1, dropout = 0.1, accrual = 24, alpha = 0.025),
  list(name = "2:1 allocation, HR 0.7", hr = 0.7, median = 10, n = 300, events = 200,
       alloc = 2, dropout = 0.05, accrual = 18, alpha = 0.025),
  list(name = "small trial, HR 0.5", hr = 0.5, median = 6, n = 80, events = 60,
       alloc = 1, dropout = 0, accrual = 12, alpha = 0.05),
  list(name = "null, HR 1", hr = 1, median = 12, n = 217, events = 161,
       alloc = 1, dropout = 0, accrual = 24, alpha = 0.025)
)
rows <- character(0)
for (d in designs) {
  design <- getDesignGroupSequential(kMax = 1, alpha = d$alpha, sided = 1)
  started <- Sys.time()
  sim <- getSimulationSurvival(
    design, lambda2 = log(2) / d$median, hazardRatio = d$hr, directionUpper = FALSE,
    accrualTime = c(0, d$accrual), maxNumberOfSubjects = d$n, plannedEvents = d$events,
    allocation1 = if (d$alloc == 2) 2 else 1, allocation2 = 1,
    dropoutRate1 = d$dropout, dropoutRate2 = d$dropout, dropoutTime = 12,
    maxNumberOfIterations = iterations, seed = 20261206
  )
  seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  rows <- c(rows, sprintf(
    paste0('{"name": "%s", "input": {"replicates": %d, "seed": 1, "subjects": %d, ',
           '"allocation_ratio": %s, "accrual_months": %s, "analysis": {"events": %d}, ',
           '"arms": {"control": {"cure_fraction": 0.0, "median_months": %s}, ',
           '"treatment": {"cure_fraction": 0.0, "median_months": %.15g}}, ',
           '"dropout_rate": %s, "dropout_months": 12, "alpha": %s, "sided": 1, ',
           '"tests": ["logrank"]}, "rpact_power": %.6f, "rpact_analysis_month": %.6f, ',
           '"iterations": %d, "seconds": %.3f}'),
    d$name, iterations, d$n, d$alloc, d$accrual, d$events, d$median, d$median / d$hr,
    d$dropout, d$alpha, sim$overallReject, sim$analysisTime[1], iterations, seconds))
}
header <- sprintf('"generator": "rpact %s getSimulationSurvival, R %s"',
                  packageVersion("rpact"), getRversion())
writeLines(c("{", paste0("  ", header, ","), '  "designs": [',
             paste0("    ", rows, collapse = ",\n"), "  ]", "}"),
           "rpact_simulation_survival.json")
