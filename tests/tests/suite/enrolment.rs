//! enrolment
