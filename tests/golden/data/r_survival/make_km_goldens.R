# Golden values for cartwatch's Kaplan-Meier medians, quantiles and pointwise bands.
#
# Run from the repository root (R >= 4, survival >= 3.5, jsonlite):
#   Rscript tests/golden/data/r_survival/make_km_goldens.R ../shared/data \
#       tests/golden/data/r_survival/km_goldens.json
# The first argument is the shared validation data folder (for the pharmaverseadam
# oncology ADTTE); the built-in survival data sets (lung, aml, veteran, ovarian) come from R.
# Each case stores its data (time, event, group), so the Python tests need neither R nor
# the shared folder.
#
# What is recorded per case, conf.type and group:
#   table    - survfit's time, n.risk, n.event, n.censor, surv, std.err (se of -log S; R's
#              fit$std.err, Inf written as null), lower, upper (NA written as null)
#   printed  - summary(fit)$table: median, LCL, UCL: what print(survfit) shows
#   quantile - quantile(fit, c(.25, .5, .75)): quantile, lower, upper
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: make_km_goldens.R SHARED_DATA_DIR OUT.json")
shared <- args[[1]]
out_path <- args[[2]]

probs <- c(0.25, 0.5, 0.75)
conf_types <- c("log", "log-log", "plain")

one_fit <- function(fit) {
  tab <- summary(fit)$table
  q <- quantile(fit, probs = probs)
  list(
    # I(): keep one-row tables as arrays (auto_unbox would write a scalar).
    table = list(
      time = I(fit$time), n_risk = I(fit$n.risk), n_event = I(fit$n.event),
      n_censor = I(fit$n.censor), surv = I(fit$surv),
      std_err_log = I(ifelse(is.finite(fit$std.err), fit$std.err, NA)),
      lower = I(fit$lower), upper = I(fit$upper)
    ),
    printed = list(
      n = unname(tab[["records"]]), events = unname(tab[["events"]]),
      median = unname(tab[["median"]]),
      lcl = unname(tab[[grep("LCL$", names(tab))]]),
      ucl = unname(tab[[grep("UCL$", names(tab))]])
    ),
    quantile = lapply(seq_along(probs), function(i) list(
      p = probs[[i]], time = unname(q$quantile[[i]]),
      lower = unname(q$lower[[i]]), upper = unname(q$upper[[i]])
    ))
  )
}

make_case <- function(name, source, time, event, group = NULL, conf_level = 0.95) {
  keep <- !is.na(time) & !is.na(event)
  if (!is.null(group)) keep <- keep & !is.na(group)
  time <- time[keep]
  event <- as.integer(event[keep])
  if (!is.null(group)) group <- as.character(group[keep])
  fits <- list()
  for (ct in conf_types) {
    if (is.null(group)) {
      fits[[ct]] <- list(all = one_fit(survfit(Surv(time, event) ~ 1,
        conf.type = ct, conf.int = conf_level)))
    } else {
      per <- list()
      for (g in sort(unique(group))) {
        per[[g]] <- one_fit(survfit(Surv(time[group == g], event[group == g]) ~ 1,
          conf.type = ct, conf.int = conf_level))
      }
      fits[[ct]] <- per
    }
  }
  list(name = name, source = source, conf_level = conf_level, time = I(time),
       event = I(event), group = if (is.null(group)) NULL else I(group), fits = fits)
}

cases <- list()
add <- function(...) cases[[length(cases) + 1]] <<- make_case(...)

# Public data sets shipped with survival.
add("lung", "survival::lung, status 2 = death", lung$time, lung$status == 2)
add("lung_by_sex", "survival::lung by sex", lung$time, lung$status == 2, lung$sex)
add("lung_by_ph_ecog", "survival::lung by ph.ecog (ph.ecog 3: one subject, S -> 0)",
    lung$time, lung$status == 2, lung$ph.ecog)
add("lung_90", "survival::lung, 90% limits", lung$time, lung$status == 2, conf_level = 0.9)
add("aml", "survival::aml overall (log upper band is not monotone: print 27 (18, 45))",
    aml$time, aml$status)
add("aml_by_x", "survival::aml by x", aml$time, aml$status, aml$x)
add("veteran", "survival::veteran overall", veteran$time, veteran$status)
add("veteran_by_trt", "survival::veteran by trt (trt 2: S = 0.5 on [52, 53))",
    veteran$time, veteran$status, veteran$trt)
add("veteran_by_celltype", "survival::veteran by celltype (curves end at 0)",
    veteran$time, veteran$status, veteran$celltype)
add("ovarian", "survival::ovarian", ovarian$futime, ovarian$fustat)

# pharmaverseadam oncology ADTTE, PFS by ARM: Xanomeline Low Dose ends on a flat at S = 0.5.
adtte <- read.csv(file.path(shared, "pharmaverseadam", "adtte_onco.csv"))
pfs <- adtte[adtte$PARAMCD == "PFS", ]
add("pharmaverse_pfs_by_arm", "pharmaverseadam adtte_onco PFS, event = 1 - CNSR, by ARM",
    pfs$AVAL, 1 - pfs$CNSR, pfs$ARM)

# Constructed corners.
add("ends_at_zero", "every subject has the event; ties at 4", c(1, 2, 4, 4, 6, 9),
    rep(1, 6))
add("single_death", "one subject, dies: S 1 -> 0", 5, 1)
add("all_die_together", "four deaths at one time: S 1 -> 0", rep(7, 4), rep(1, 4))
add("drop_through_half_to_zero", "S 1 -> 2/3 -> 0: the last two die together",
    c(2, 5, 5), c(1, 1, 1))
add("flat_half_then_drop", "S = 0.5 on [3, 5) then a later drop (midpoint 4)",
    c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 0, 1, 0))
add("flat_half_to_end", "S = 0.5 from 3 to the last censoring at 6 (print 3, quantile 4.5)",
    c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 0, 0, 0))
add("ties_event_and_censor", "events and censorings tied at the same times",
    c(2, 2, 2, 3, 3, 5, 5, 5, 8, 8, 11, 11), c(1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0))
add("never_half", "S stays above 0.5: median not reached", c(1, 2, 3, 4, 5, 6, 7, 8),
    c(1, 0, 0, 1, 0, 0, 0, 0))

meta <- list(
  generated_by = "tests/golden/data/r_survival/make_km_goldens.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  probs = probs,
  note = paste(
    "printed = summary(fit)$table (what print(survfit) shows);",
    "quantile = quantile(fit, probs); NA and Inf are written as null."
  )
)
writeLines(toJSON(list(meta = meta, cases = cases), digits = NA, na = "null",
                  auto_unbox = TRUE, null = "null"), out_path)
