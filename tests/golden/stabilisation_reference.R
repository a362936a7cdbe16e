# Golden reference values for ixl_eval.stabilisation on a conversion-like dataset, computed with
# R's survival and cmprsk packages.
#
# Run from the repository root (needs R >= 4.2 with survival, cmprsk, jsonlite):
#   Rscript tests/golden/stabilisation_reference.R
# It simulates fixed-term contracts (several per person, so person clusters; whole days, so many
# tied times; a few same-day ends at 0.5 days, as ixl_eval.cohorts codes them), writes them to
# stabilisation_episodes.csv and the reference numbers to stabilisation_reference.json. Tests read
# only the CSV and JSON; CI needs no R.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

here <- "tests/golden"
set.seed(20240430)
n_people <- 260
k <- sample(1:3, n_people, replace = TRUE, prob = c(0.6, 0.3, 0.1))
pid <- rep(sprintf("P%04d", seq_len(n_people)), k)
n <- length(pid)
size <- factor(sample(c("micro", "small", "medium", "large"), n, replace = TRUE, prob = c(0.15, 0.2, 0.2, 0.45)),
               levels = c("micro", "small", "medium", "large"))
rate <- c(micro = 0.35, small = 0.45, medium = 0.55, large = 0.75)[as.character(size)] / 365.25
t_conv <- rexp(n, rate)
t_end <- pmin(pmax(round(150 * exp(0.7 * rnorm(n))), 0), 730)
t_cens <- round(runif(n, 30, 1500))
time <- pmin(floor(t_conv), t_end, t_cens)
event <- ifelse(floor(t_conv) <= pmin(t_end, t_cens), 1L, ifelse(t_end <= t_cens, 2L, 0L))
time <- ifelse(time == 0 & event > 0, 0.5, time)
d <- data.frame(participant_id = pid, employer_size = size, time = time, event = event)
write.csv(d, file.path(here, "stabilisation_episodes.csv"), row.names = FALSE)

out <- list(meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                        cmprsk = as.character(packageVersion("cmprsk")), n = n,
                        events = as.list(table(factor(event, 0:2)))))
horizons <- c(183, 365, 730)

# Aalen-Johansen cumulative incidence of conversion (state "conv"), overall and by size:
# survfit's multi-state estimate and its (infinitesimal jackknife) standard error.
d$state <- factor(d$event, 0:2, c("censor", "conv", "end"))
aj <- function(dd) {
  f <- survfit(Surv(time, state) ~ 1, data = dd)
  s <- summary(f, times = horizons, extend = TRUE)
  j <- which(f$states == "conv")
  list(cif = unname(s$pstate[, j]), se = unname(s$std.err[, j]))
}
out$aj <- list(all = aj(d))
for (lev in levels(size)) out$aj[[lev]] <- aj(d[d$employer_size == lev, ])
# cmprsk's cuminc: the same point estimate, a second implementation
ci <- cuminc(d$time, d$event, cencode = 0)
out$cuminc_all <- unname(timepoints(ci, horizons)$est["1 1", ])

# Cause-specific Cox model of conversion: ended contracts censored, Efron ties, micro reference,
# cluster-robust variance by person (several contracts per person)
fit <- coxph(Surv(time, event == 1) ~ employer_size, data = d, ties = "efron", cluster = participant_id)
out$cox <- list(terms = sub("employer_size", "", names(coef(fit))), coef = unname(coef(fit)),
                robust_se = unname(sqrt(diag(fit$var))), naive_se = unname(sqrt(diag(fit$naive.var))))

# Log-rank test of the conversion hazard by size
lr <- survdiff(Surv(time, event == 1) ~ employer_size, data = d)
out$logrank <- list(chisq = unname(lr$chisq), df = length(lr$n) - 1L)

# Conversions per contract-year with exact Poisson limits
out$rates <- list()
for (lev in levels(size)) {
  dd <- d[d$employer_size == lev, ]
  pt <- poisson.test(sum(dd$event == 1), sum(dd$time) / 365.25)
  out$rates[[lev]] <- list(rate = unname(pt$estimate), lower = pt$conf.int[1], upper = pt$conf.int[2])
}

write_json(out, file.path(here, "stabilisation_reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", file.path(here, "stabilisation_reference.json"), "\n")
