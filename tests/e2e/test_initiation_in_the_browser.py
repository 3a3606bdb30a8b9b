"""The whole initiation path in a real browser: the coordinator records a referral, the
physician assesses candidacy and modality and accepts, the perfusionist writes the
configuration plan and signs, the physician signs and starts the run — which then shows
the planned mode and cannulas and links back to its decision."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def logout(page: Page) -> None:
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")


def test_referral_to_started_run(page: Page) -> None:
    login(page, "coordinator")
    page.click("header >> text=Referrals")
    page.click("text=New referral")
    page.select_option("select[name=patient_id]", "2")
    page.fill("input[name=referring_hospital]", "St Elsewhere")
    page.fill("input[name=referring_clinician]", "Dr Far Away")
    page.fill("input[name=contact]", "0100 555 0199")
    page.select_option("select[name=urgency]", "emergency")
    page.fill("textarea[name=clinical_picture]", "Influenza ARDS, PaO2/FiO2 55 on PEEP 16")
    page.click("button:has-text('Record referral')")
    expect(page).to_have_url(re.compile(r"/referrals/\d+$"))
    url = page.url
    page.select_option("#status-form select[name=status]", "under_assessment")
    page.click("button:has-text('Change status')")
    expect(page.locator("#referral")).to_contain_text("under assessment")
    page.click("header >> text=Referrals")
    expect(page.locator("#referrals tbody tr").first).to_contain_text("St Elsewhere")
    logout(page)

    login(page, "physician", then=url)
    page.check("input[value='pulmonary.hypoxaemia']")
    page.fill("input[name='murray.cxr_quadrants']", "4")
    page.fill("input[name='murray.pao2_mmhg']", "55")
    page.fill("input[name='murray.fio2']", "1.0")
    page.fill("input[name='resp.age_years']", "39")
    page.click("button:has-text('Save candidacy')")
    expect(page.locator("#score-murray")).to_contain_text("computed")
    expect(page.locator("#score-resp")).to_contain_text("Missing")
    page.check("input[name='phys.respiratory_failure']")
    page.check("input[name='phys.adequate_cardiac_function']")
    page.click("button:has-text('Save modality')")
    expect(page.locator("#recommendation")).to_contain_text("Recommended: VV")
    page.select_option("#decision-form select[name=outcome]", "accept")
    page.fill(
        "#decision-form textarea[name=reasons]", "Meets EOLIA; reversible; no contraindication"
    )
    page.click("button:has-text('Record decision')")
    expect(page.locator("#decision-outcome")).to_have_text("accept")
    logout(page)

    login(page, "perfusionist", then=url)
    plan = page.locator("#plan-form")
    plan.locator("select[name='c0.role']").select_option("drainage_and_return")
    plan.locator("input[name='c0.site']").fill("internal jugular vein")
    plan.locator("select[name='c0.side']").select_option("right")
    plan.locator("select[name='c0.catalogue_id']").select_option("crescent_32")
    plan.locator("input[name=membrane_lung_make]").fill("Getinge")
    plan.locator("input[name=membrane_lung_model]").fill("HLS 7.0")
    plan.locator("input[name=rated_flow_l_min]").fill("7")
    plan.locator("input[name=prime_volume_ml]").fill("600")
    plan.locator("input[name=hct_pct]").fill("32")
    plan.locator("input[name=flow_goal_low]").fill("4")
    plan.locator("input[name=flow_goal_high]").fill("5")
    plan.locator("input[name=monitor_low]").fill("0.3")
    plan.locator("input[name=monitor_high]").fill("0.5")
    page.click("button:has-text('Save configuration plan')")
    expect(page.locator("#cannula-checks")).to_contain_text("within limit")
    expect(page.locator("#plan-checks")).to_contain_text("Predicted haematocrit after priming")
    page.click("button:has-text('Sign as perfusionist')")
    expect(page.locator("#sign-perfusionist")).to_contain_text("Test perfusionist")
    expect(page.locator(".notice").first).to_contain_text("signed")
    logout(page)

    login(page, "physician", then=url)
    page.click("button:has-text('Sign as responsible physician')")
    expect(page.locator("#sign-physician")).to_contain_text("Test physician")
    page.fill("#start-form input[name=location]", "ICU bed 4")
    page.click("button:has-text('Start run')")
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.locator("#summary")).to_contain_text("VV")
    cannulas = page.locator("#cannulas")
    expect(cannulas).to_contain_text("drainage and return")  # one dual-lumen cannula
    expect(cannulas).to_contain_text("internal jugular vein")
    expect(page.locator("#timeline")).to_contain_text("Referred for pulmonary ECMO by St Elsewhere")
    page.click("text=Initiation decision")
    expect(page).to_have_url(url)
    expect(page.locator("#start")).to_contain_text("started")
