/* profile_crm.h - internal: the `crm:` section of a mapping profile (profile_crm.c) */
#ifndef HO_PROFILE_CRM_H
#define HO_PROFILE_CRM_H

#include "handoff/conf.h"

/* Validate a profile's crm: map (NULL: none) with file:line errors. */
int ho_profile_crm_check(const ho_conf_t *conf, const ho_node_t *crm, ho_err_t *err);

#endif
