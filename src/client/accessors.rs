//! One accessor per model (`client.sessions()`), all the same generic [`Api`].

use super::{Api, Client};
use crate::types::*;

macro_rules! accessors {
    ($( $method:ident => $ty:ident ),* $(,)?) => {
        impl Client {
            $(
                #[doc = concat!("The API of [`", stringify!($ty), "`] records: `client.api::<", stringify!($ty), ">()`.")]
                pub fn $method(&self) -> Api<$ty> {
                    self.api::<$ty>()
                }
            )*
        }

        /// Every accessor: (method name, the model's URL name).
        pub const ACCESSORS: &[(&str, &str)] = &[
            $( (stringify!($method), <$ty as crate::Model>::META.name) ),*
        ];

        #[cfg(feature = "blocking")]
        impl super::blocking::Client {
            $(
                #[doc = concat!("The blocking API of [`", stringify!($ty), "`] records.")]
                pub fn $method(&self) -> super::blocking::Api<$ty> {
                    self.api::<$ty>()
                }
            )*
        }
    };
}

accessors! {
    behaviors => Behavior,
    behavioral_assays => BehavioralAssay,
    behavioral_categories => BehavioralCategory,
    behavioral_paradigms => BehavioralParadigm,
    brain_regions => BrainRegion,
    breedings => Breeding,
    cohorts => Cohort,
    collections => Collection,
    consumables => Consumable,
    consumable_stocks => ConsumableStock,
    data_acquisitions => DataAcquisition,
    data_storages => DataStorage,
    equipment => Equipment,
    groups => Group,
    group_membership_invitations => GroupMembershipInvitation,
    group_membership_requests => GroupMembershipRequest,
    hardware_devices => HardwareDevice,
    inventories => Inventory,
    journals => Journal,
    laboratories => Laboratory,
    licenses => License,
    manipulations => Manipulation,
    procedures => Procedure,
    procedure_logs => ProcedureLog,
    projects => Project,
    project_group_membership_invitations => ProjectGroupMembershipInvitation,
    project_membership_invitations => ProjectMembershipInvitation,
    publications => Publication,
    regulatory_authorities => RegulatoryAuthority,
    sessions => Session,
    session_data_storages => SessionDataStorage,
    setups => Setup,
    setup_types => SetupType,
    species => Species,
    strains => Strain,
    subjects => Subject,
    subject_logs => SubjectLog,
    suppliers => Supplier,
    users => User,
}
