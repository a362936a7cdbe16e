# Golden reference values for ixl_eval.survival, computed with R's survival and cmprsk packages.
#
# Run from the repository root (needs R >= 4.2 with survival, cmprsk, jsonlite):
#   Rscript tests/golden/survival_reference.R
# It writes the datasets it uses (public data shipped with R's survival package) as CSV and the
# reference numbers as JSON beside this script. Tests read only the CSV and JSON; CI needs no R.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

here <- "tests/golden"
out <- list(meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                        cmprsk = as.character(packageVersion("cmprsk"))))

# ---- data ---------------------------------------------------------------------------------
lung2 <- na.omit(survival::lung[, c("time", "status", "sex", "age", "ph.ecog")])
lung2$event <- as.integer(lung2$status == 2)
# deterministic, unequal weights (as inverse-probability weights would be)
lung2$w <- 0.5 + (seq_len(nrow(lung2)) %% 7) / 4
lung2$ecog <- factor(lung2$ph.ecog)
write.csv(lung2[, c("time", "event", "sex", "age", "ph.ecog", "w")], file.path(here, "survival_lung.csv"),
          row.names = FALSE)

vet <- survival::veteran
write.csv(vet[, c("time", "status", "trt", "celltype", "karno", "age")], file.path(here, "survival_veteran.csv"),
          row.names = FALSE)

mg <- survival::mgus2
mg$etime <- ifelse(mg$pstat == 0, mg$futime, mg$ptime)
mg$event <- ifelse(mg$pstat == 0, 2 * mg$death, 1)  # 1 = progression (PCM), 2 = death, 0 = censored
mg$w <- 0.5 + (seq_len(nrow(mg)) %% 5) / 3
write.csv(mg[, c("etime", "event", "sex", "w")], file.path(here, "survival_mgus2.csv"), row.names = FALSE)

# std_err is the standard error of log S when logse is TRUE (Greenwood), of S otherwise (robust)
km_table <- function(fit, ...) {
  list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
       surv = fit$surv, std_err = fit$std.err, logse = fit$logse, lower = fit$lower, upper = fit$upper)
}

# ---- Kaplan-Meier -------------------------------------------------------------------------
f_ll <- survfit(Surv(time, event) ~ 1, data = lung2, conf.type = "log-log")
f_log <- survfit(Surv(time, event) ~ 1, data = lung2, conf.type = "log")
out$km_lung <- km_table(f_ll)
out$km_lung$lower_log <- f_log$lower
out$km_lung$upper_log <- f_log$upper
s <- summary(f_ll, rmean = 500)$table
out$km_lung$median <- unname(s["median"])
out$km_lung$median_lcl <- unname(s["0.95LCL"])
out$km_lung$median_ucl <- unname(s["0.95UCL"])
out$km_lung$rmean_500 <- unname(s["rmean"])
out$km_lung$rmean_500_se <- unname(s["se(rmean)"])
out$km_lung$surv_at <- list(times = c(90, 180, 365, 1000),
                            surv = summary(f_ll, times = c(90, 180, 365, 1000), extend = TRUE)$surv,
                            lower = summary(f_ll, times = c(90, 180, 365, 1000), extend = TRUE)$lower,
                            upper = summary(f_ll, times = c(90, 180, 365, 1000), extend = TRUE)$upper)

# by sex: medians with CI and RMST per group
f_sex <- survfit(Surv(time, event) ~ sex, data = lung2, conf.type = "log-log")
ts <- summary(f_sex, rmean = 600)$table
out$km_lung_by_sex <- list(
  sex = c(1, 2), median = unname(ts[, "median"]), median_lcl = unname(ts[, "0.95LCL"]),
  median_ucl = unname(ts[, "0.95UCL"]), rmean_600 = unname(ts[, "rmean"]),
  rmean_600_se = unname(ts[, "se(rmean)"]), events = unname(ts[, "events"]))

# veteran: a median CI whose upper end is not reached (NA) in one group
f_vet <- survfit(Surv(time, status) ~ trt, data = vet, conf.type = "log-log")
tv <- summary(f_vet)$table
out$km_veteran_by_trt <- list(trt = c(1, 2), median = unname(tv[, "median"]),
                              median_lcl = unname(tv[, "0.95LCL"]), median_ucl = unname(tv[, "0.95UCL"]))

# weighted KM: Greenwood with case weights, and the infinitesimal jackknife (robust) variance
f_w <- survfit(Surv(time, event) ~ 1, data = lung2, weights = w, robust = FALSE, conf.type = "log-log")
out$km_lung_weighted <- km_table(f_w)
lung2$id <- seq_len(nrow(lung2))
f_wr <- survfit(Surv(time, event) ~ 1, data = lung2, weights = w, id = id, robust = TRUE, conf.type = "log-log")
out$km_lung_weighted_robust <- km_table(f_wr)
f_r <- survfit(Surv(time, event) ~ 1, data = lung2, id = id, robust = TRUE, conf.type = "log-log")
out$km_lung_robust <- km_table(f_r)

# ---- log-rank -----------------------------------------------------------------------------
lr <- survdiff(Surv(time, event) ~ sex, data = lung2)
out$logrank_lung_sex <- list(chisq = lr$chisq, df = length(lr$n) - 1, obs = lr$obs, exp = lr$exp)
lr4 <- survdiff(Surv(time, status) ~ celltype, data = vet)
out$logrank_veteran_celltype <- list(chisq = lr4$chisq, df = length(lr4$n) - 1, obs = lr4$obs, exp = lr4$exp)

# ---- Cox, Efron ties ----------------------------------------------------------------------
# tight convergence: a flat likelihood (ecog 3 has one person) would otherwise stop ~1e-6 early
ctl <- coxph.control(eps = 1e-11, iter.max = 100)
cx <- coxph(Surv(time, event) ~ sex + age + ecog, data = lung2, ties = "efron", control = ctl)
out$cox_lung <- list(names = names(coef(cx)), coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))),
                     loglik = cx$loglik[2], concordance = unname(cx$concordance["concordance"]))
cv <- coxph(Surv(time, status) ~ trt + karno + age + celltype, data = vet, ties = "efron", control = ctl)
out$cox_veteran <- list(names = names(coef(cv)), coef = unname(coef(cv)), se = unname(sqrt(diag(vcov(cv)))),
                        loglik = cv$loglik[2], concordance = unname(cv$concordance["concordance"]))
cw <- coxph(Surv(time, event) ~ sex + age + ecog, data = lung2, weights = w, robust = TRUE, ties = "efron", control = ctl)
out$cox_lung_weighted_robust <- list(names = names(coef(cw)), coef = unname(coef(cw)),
                                     robust_se = unname(sqrt(diag(vcov(cw)))),
                                     concordance = unname(concordance(cw)$concordance))
cr <- coxph(Surv(time, event) ~ sex + age + ecog, data = lung2, robust = TRUE, ties = "efron", control = ctl)
out$cox_lung_robust <- list(names = names(coef(cr)), robust_se = unname(sqrt(diag(vcov(cr)))))
cs <- coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = vet, ties = "efron", control = ctl)
out$cox_veteran_strata <- list(names = names(coef(cs)), coef = unname(coef(cs)), se = unname(sqrt(diag(vcov(cs)))))
z <- cox.zph(cx, transform = "km", terms = FALSE)
out$zph_lung_km <- list(names = rownames(z$table), chisq = unname(z$table[, "chisq"]), p = unname(z$table[, "p"]))

# ---- Aalen-Johansen (competing risks) -----------------------------------------------------
mg$state <- factor(mg$event, 0:2, labels = c("censor", "pcm", "death"))
aj <- survfit(Surv(etime, state) ~ 1, data = mg, conf.type = "log")
out$aj_mgus2 <- list(time = aj$time, n_risk = aj$n.risk[, 1], pstate_pcm = aj$pstate[, 2],
                     pstate_death = aj$pstate[, 3], se_pcm = aj$std.err[, 2], se_death = aj$std.err[, 3],
                     lower_pcm = aj$lower[, 2], upper_pcm = aj$upper[, 2])
aj_ll <- survfit(Surv(etime, state) ~ 1, data = mg, conf.type = "log-log")
out$aj_mgus2$lower_ll_pcm <- aj_ll$lower[, 2]
out$aj_mgus2$upper_ll_pcm <- aj_ll$upper[, 2]
mg$id <- seq_len(nrow(mg))
ajw <- survfit(Surv(etime, state) ~ 1, data = mg, weights = w, id = id, conf.type = "log")
out$aj_mgus2_weighted <- list(time = ajw$time, pstate_pcm = ajw$pstate[, 2], pstate_death = ajw$pstate[, 3],
                              se_pcm = ajw$std.err[, 2], se_death = ajw$std.err[, 3])
ci <- cuminc(mg$etime, mg$event, cencode = 0)
tp <- timepoints(ci, times = c(12, 60, 120, 240, 360))
out$cuminc_mgus2 <- list(times = c(12, 60, 120, 240, 360), est_pcm = unname(tp$est["1 1", ]),
                         var_pcm = unname(tp$var["1 1", ]), est_death = unname(tp$est["1 2", ]),
                         var_death = unname(tp$var["1 2", ]))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE),
           file.path(here, "survival_reference.json"))
cat("wrote", file.path(here, "survival_reference.json"), "\n")
