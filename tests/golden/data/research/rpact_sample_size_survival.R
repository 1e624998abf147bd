# Golden values for `cartwatch design survival`: rpact getSampleSizeSurvival (kMax = 1).
# Run from this folder:  Rscript rpact_sample_size_survival.R  (writes the JSON beside it).
# Each row is one design of the grid below; events/subjects are rpact's unrounded
# maxNumberOfEvents and maxNumberOfSubjects, printed with 12 significant digits.
library(rpact)
grid <- expand.grid(
  method = c("schoenfeld", "freedman"),
  hazard_ratio = c(0.5, 0.6, 0.75, 1.4),
  alpha_sided = c("0.025/1", "0.05/2"),
  power = c(0.8, 0.9),
  allocation_ratio = c(1, 2, 0.5),
  dropout_rate = c(0, 0.05, 0.2),
  timing = c("24/24", "12/36", "30/6"),
  control_median_months = c(6, 12, 30),
  stringsAsFactors = FALSE
)
set.seed(13)
grid <- grid[sample(nrow(grid), 400), ]
rows <- vector("list", nrow(grid))
for (i in seq_len(nrow(grid))) {
  g <- grid[i, ]
  a <- as.numeric(strsplit(g$alpha_sided, "/")[[1]])
  timing <- as.numeric(strsplit(g$timing, "/")[[1]])
  design <- getDesignGroupSequential(kMax = 1, alpha = a[1], beta = 1 - g$power, sided = a[2])
  s <- getSampleSizeSurvival(
    design,
    typeOfComputation = if (g$method == "schoenfeld") "Schoenfeld" else "Freedman",
    lambda2 = log(2) / g$control_median_months, hazardRatio = g$hazard_ratio,
    allocationRatioPlanned = g$allocation_ratio, accrualTime = c(0, timing[1]),
    followUpTime = timing[2], dropoutRate1 = g$dropout_rate, dropoutRate2 = g$dropout_rate,
    dropoutTime = 12
  )
  rows[[i]] <- sprintf(
    paste0('{"input": {"hazard_ratio": %s, "alpha": %s, "sided": %s, "power": %s, ',
           '"allocation_ratio": %s, "method": "%s", "control_median_months": %s, ',
           '"accrual_months": %s, "follow_up_months": %s, "dropout_rate": %s, ',
           '"dropout_months": 12}, "events": %.12g, "subjects": %.12g, "analysis_month": %.12g}'),
    g$hazard_ratio, a[1], a[2], g$power, g$allocation_ratio, g$method,
    g$control_median_months, timing[1], timing[2], g$dropout_rate,
    s$maxNumberOfEvents, s$maxNumberOfSubjects, s$analysisTime[1]
  )
}
header <- sprintf('"generator": "rpact %s getSampleSizeSurvival, R %s"',
                  packageVersion("rpact"), getRversion())
writeLines(c("{", paste0("  ", header, ","), '  "designs": [',
             paste0("    ", unlist(rows), collapse = ",\n"), "  ]", "}"),
           "rpact_sample_size_survival.json")
