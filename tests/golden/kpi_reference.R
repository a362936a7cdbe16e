# Golden reference for ixl_eval.kpi, computed with base R (stats).
#
# Run from the repository root:   Rscript tests/golden/kpi_reference.R
# Writes tests/golden/kpi_reference.json; tests read only the JSON, R is needed only to regenerate it.
#
# - rate ratio of two counts over equal spans: poisson.test(c(now, before)) (exact conditional
#   binomial test of "no change" and Clopper-Pearson interval for the ratio);
# - Holm adjustment: p.adjust(p, method = "holm");
# - annual projection: the remaining count is negative binomial, size = ytd + 1/2, prob = seasonal
#   share s (Poisson with a Jeffreys Gamma(ytd + 1/2, rate s) mean); qnbinom / pnbinom give the
#   interval and the probability of reaching a target.
suppressPackageStartupMessages(library(jsonlite))

pairs <- list(c(152, 102), c(29, 18), c(5, 3), c(2, 4), c(0, 4), c(40, 41), c(3, 1))
rate <- lapply(pairs, function(x) {
  r <- poisson.test(x)
  list(now = x[1], before = x[2], ratio_low = r$conf.int[1], ratio_high = r$conf.int[2],
       p_value = r$p.value)
})

p <- c(0.001, 0.04, 0.03, 0.2, 0.012, 0.5)
holm <- list(p = p, p_holm = p.adjust(p, method = "holm"))

proj_cases <- list(c(ytd = 6, s = 0.75, target = 8), c(ytd = 150, s = 0.3, target = 496),
                   c(ytd = 2, s = 0.4, target = 4))
proj <- lapply(proj_cases, function(x) {
  size <- x[["ytd"]] + 0.5
  need <- ceiling(x[["target"]]) - x[["ytd"]]
  list(ytd = x[["ytd"]], s = x[["s"]], target = x[["target"]], level = 0.9,
       ci_low = x[["ytd"]] + qnbinom(0.05, size = size, prob = x[["s"]]),
       ci_high = x[["ytd"]] + qnbinom(0.95, size = size, prob = x[["s"]]),
       prob_target = pnbinom(need - 1, size = size, prob = x[["s"]], lower.tail = FALSE))
})

out <- list(r_version = R.version.string, rate_ratio = rate, holm = holm, projection = proj)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/golden/kpi_reference.json")
