# Golden reference for ixl_eval.causal, computed with R (glm, MatchIt, sandwich) on MatchIt's
# `lalonde` job-training data (Dehejia & Wahba 1999; 185 NSW treated, 429 PSID controls).
#
# Run from the repository root:   Rscript tests/golden/causal_lalonde.R
# Writes tests/golden/lalonde.csv (the data) and tests/golden/causal_lalonde.json (the answers).
# Tests read only these two files; R is needed only to regenerate them.
#
# Conventions (the same ones ixl_eval.causal documents):
# - propensity score: logistic regression, treat ~ age + educ + race + married + nodegree + re74 + re75
#   (race: factor, reference level "black"), model-based (Fisher information) standard errors;
# - ATT weights: treated 1, controls ps / (1 - ps); stabilised: controls times (1 - p) / p, p = share treated;
# - IPTW ATT: weighted difference in means = coefficient of treat in lm(y ~ treat, weights = w),
#   standard error from the HC0 sandwich (sandwich::vcovHC(type = "HC0"));
# - balance: MatchIt's summary() (standardize = TRUE): SMD = (weighted mean treated - weighted mean
#   control) / SD of the treated group in the full, unweighted sample (sample SD for continuous
#   covariates, sqrt(p (1 - p)) for binary ones); variance ratio = weighted variance treated /
#   weighted variance control (continuous covariates only). Weighted balance is obtained by giving
#   the ATT weights as MatchIt sampling weights with method = NULL: for the ATT every treated unit
#   has weight 1, so the SD denominator stays the unweighted treated SD;
# - matching: matchit(method = "nearest", distance = <score or its logit>, caliper = c,
#   std.caliper = TRUE), 1:1 greedy, without replacement, treated units in descending order of the
#   score (see the note on do_match() about MatchIt 4.5.1); matched-sample
#   ATT = coefficient of treat in lm(y ~ treat, weights = weights) on match.data(), SE clustered by
#   pair (sandwich::vcovCL(cluster = ~subclass), its default HC1 type with cluster adjustment).
suppressPackageStartupMessages({
  library(MatchIt)
  library(sandwich)
  library(jsonlite)
})

here <- "tests/golden"
data("lalonde", package = "MatchIt")
d <- lalonde
d$id <- rownames(lalonde)
d$race <- as.character(d$race)
write.csv(d[, c("id", "treat", "age", "educ", "race", "married", "nodegree", "re74", "re75", "re78")],
          file.path(here, "lalonde.csv"), row.names = FALSE)
d$race <- factor(d$race, levels = c("black", "hispan", "white"))
rownames(d) <- d$id

f <- treat ~ age + educ + race + married + nodegree + re74 + re75
fit <- glm(f, family = binomial(), data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
ps <- unname(fitted(fit))
lp <- unname(predict(fit, type = "link"))
p1 <- mean(d$treat)
w_att <- ifelse(d$treat == 1, 1, ps / (1 - ps))
w_stab <- ifelse(d$treat == 1, 1, ps / (1 - ps) * (1 - p1) / p1)

att_fit <- function(y, treat, w, data) {
  m <- lm(y ~ treat, weights = w)
  list(estimate = unname(coef(m)["treat"]),
       se_hc0 = unname(sqrt(diag(vcovHC(m, type = "HC0")))["treat"]))
}

iptw <- att_fit(d$re78, d$treat, w_att)
iptw_stab <- att_fit(d$re78, d$treat, w_stab)
naive <- att_fit(d$re78, d$treat, rep(1, nrow(d)))

# Trimming: units with a score outside [0.05, 0.95] are left out (weight 0), then weights as above.
keep <- ps >= 0.05 & ps <= 0.95
dk <- d[keep, ]
wk <- w_att[keep]
iptw_trim <- att_fit(dk$re78, dk$treat, wk)

bal_rows <- function(s) {
  s <- as.data.frame(s)
  s <- s[rownames(s) != "distance", ]
  list(term = rownames(s),
       mean_treated = unname(s[["Means Treated"]]),
       mean_control = unname(s[["Means Control"]]),
       smd = unname(s[["Std. Mean Diff."]]),
       var_ratio = unname(s[["Var. Ratio"]]))
}
m_none <- matchit(f, data = d, method = NULL, distance = ps)
m_w <- suppressWarnings(matchit(f, data = d, method = NULL, distance = ps, s.weights = w_att))
bal_before <- bal_rows(summary(m_none, standardize = TRUE)$sum.all)
bal_weighted <- bal_rows(summary(m_w, standardize = TRUE)$sum.all)

# MatchIt 4.5.1 (the version installed here) compares distances with C's integer abs() in
# nn_matchC_vec, so calipers below 1 and left/right ties are not applied as documented
# (kosukeimai/MatchIt issue #163, "Caliper not working as intended on versions 4.5.1 - 4.5.3").
# Workaround: pass the distance multiplied by S = 2^30 / range, so the truncation to an integer
# costs a resolution of range / 2^30 (about 1e-9) and no difference overflows an int; the
# standardised caliper is unchanged by the scaling. The stopifnot() below checks that every pair
# is within the caliper on the original scale.
do_match <- function(scale, caliper) {
  dist <- if (scale == "ps") ps else lp
  S <- 2^30 / diff(range(dist))
  m <- matchit(f, data = d, method = "nearest", distance = dist * S,
               caliper = caliper, std.caliper = TRUE)
  md <- match.data(m)
  fm <- lm(re78 ~ treat, data = md, weights = weights)
  mm <- m$match.matrix
  matched <- !is.na(mm[, 1])
  tid <- rownames(mm)[matched]
  cid <- unname(mm[matched, 1])
  names(dist) <- d$id
  cal_abs <- if (is.null(caliper)) Inf else caliper * sd(dist)
  stopifnot(all(abs(dist[tid] - dist[cid]) <= cal_abs * (1 + 1e-9)))
  if (is.null(caliper)) cal_abs <- NULL
  list(scale = scale,
       caliper_sd = caliper,
       caliper_abs = cal_abs,
       n_pairs = sum(matched),
       treated_ids = tid,
       control_ids = cid,
       att = unname(coef(fm)["treat"]),
       att_se_cluster = unname(sqrt(diag(vcovCL(fm, cluster = ~subclass)))["treat"]),
       balance = bal_rows(summary(m, standardize = TRUE)$sum.matched))
}

# Count outcome with exposure (weighted Poisson rate ratio, HC0 sandwich; clustered by pair after
# matching, vcovCL's default for glm: HC0 with the G / (G - 1) cluster adjustment). The count and
# exposure are made up from lalonde's columns only to have a reproducible count outcome.
d$n_count <- round(d$re78 / 2000)
d$exposure <- 1 + d$age %% 5
pois <- glm(n_count ~ treat + offset(log(exposure)), family = poisson(), data = d, weights = w_att,
            control = glm.control(epsilon = 1e-14, maxit = 100))
m_nc <- matchit(f, data = d, method = "nearest", distance = ps * 2^30 / diff(range(ps)))
md_nc <- match.data(m_nc)
pois_m <- glm(n_count ~ treat + offset(log(exposure)), family = poisson(), data = md_nc, weights = weights,
              control = glm.control(epsilon = 1e-14, maxit = 100))
rate_ratio <- list(
  iptw = list(log_rr = unname(coef(pois)["treat"]),
              se_hc0 = unname(sqrt(diag(vcovHC(pois, type = "HC0")))["treat"])),
  matched_no_caliper = list(log_rr = unname(coef(pois_m)["treat"]),
                            se_cluster = unname(sqrt(diag(vcovCL(pois_m, cluster = ~subclass)))["treat"]))
)

out <- list(
  rate_ratio = rate_ratio,
  r_version = R.version.string,
  matchit_version = as.character(packageVersion("MatchIt")),
  formula = deparse(f),
  n = nrow(d), n_treated = sum(d$treat),
  ps_model = list(term = names(coef(fit)), coef = unname(coef(fit)),
                  se = unname(sqrt(diag(vcov(fit)))), deviance = fit$deviance),
  ps = ps, linear_predictor = lp,
  weights_att = w_att, weights_att_stabilised = w_stab,
  iptw_att = iptw, iptw_att_stabilised = iptw_stab, naive = naive,
  iptw_att_trimmed = c(iptw_trim, list(trim = c(0.05, 0.95), n_kept = sum(keep))),
  balance_before = bal_before, balance_weighted = bal_weighted,
  matching = list(ps_caliper_0.1 = do_match("ps", 0.1),
                  logit_caliper_0.2 = do_match("logit", 0.2),
                  ps_no_caliper = do_match("ps", NULL))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           file.path(here, "causal_lalonde.json"))
cat("wrote", file.path(here, "causal_lalonde.json"), "\n")
