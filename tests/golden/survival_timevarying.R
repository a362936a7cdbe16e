# Golden values for CoxModel on (start, stop] data: R's coxph on the Stanford heart transplant
# data (survival::heart), transplant as a time-varying covariate. Run from tests/golden:
#   Rscript survival_timevarying.R   -> survival_heart.csv, survival_timevarying.json
library(survival)
d <- heart
d$surgery <- as.integer(d$surgery)
write.csv(d[, c("id", "start", "stop", "event", "age", "year", "surgery", "transplant")],
          "survival_heart.csv", row.names = FALSE)
f <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = d, ties = "efron")
s <- coxph(Surv(start, stop, event) ~ age + transplant + strata(surgery), data = d, ties = "efron")
num <- function(x) sprintf("%.12g", x)
out <- sprintf('{"r_version": "%s", "survival": "%s",\n "efron": {"coef": [%s], "se": [%s], "loglik": [%s]},\n "strata": {"coef": [%s], "se": [%s]}}\n',
               R.version.string, packageVersion("survival"),
               paste(num(coef(f)), collapse = ", "), paste(num(sqrt(diag(vcov(f)))), collapse = ", "),
               paste(num(f$loglik), collapse = ", "),
               paste(num(coef(s)), collapse = ", "), paste(num(sqrt(diag(vcov(s)))), collapse = ", "))
writeLines(out, "survival_timevarying.json")
