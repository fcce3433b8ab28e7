use serde::{Deserialize, Serialize};

/// A pet in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pet {
    pub id: u64,
    /// Display name.
    pub name: String,
    pub tag: Option<String>,
    pub kind: PetKind,
    pub birth_date: Option<String>,
    pub vaccinations: Vec<Vaccination>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vaccination {
    pub vaccine: String,
    #[serde(rename = "givenOn")]
    pub date: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PetKind {
    Dog,
    Cat,
    Bird,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPet {
    pub name: String,
    pub kind: PetKind,
    #[serde(default)]
    pub tag: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: u32,
    pub kind: Option<PetKind>,
}

#[derive(Debug, Deserialize)]
pub struct OwnerPet {
    pub owner_id: String,
    pub pet_id: u64,
}
